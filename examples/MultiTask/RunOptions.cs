using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LossDsl.Examples;
using static LossDsl.Examples.OptionParser;

namespace MultiTask;

/// <summary>A way of weighing the three task losses: one <c>[Loss]</c> method of <see cref="Objectives.MultiTaskLoss"/> each.</summary>
public enum Method
{
    Equal,
    Uncertainty,
    Dwa,
    CoV,
    Balance,
    GradNorm,
}

/// <summary>The run's options, with their defaults. <see cref="Parse"/> checks every value before training starts.</summary>
public sealed record RunOptions
{
    public int Steps { get; init; } = 1000;
    public int Seeds { get; init; } = 3;
    public int Seed { get; init; } = 42;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 3e-3;
    public Method[] Methods { get; init; } = Enum.GetValues<Method>();
    public int EvalEvery { get; init; } = 25;
    public int LogEvery { get; init; } = 5;
    public int Threads { get; init; } = 1;
    public string Device { get; init; } = "cpu";
    public string? Out { get; init; }
    public bool Progress { get; init; } = true;

    /// <summary>The output folder: <c>--out</c>, or <c>runs/multitask</c>.</summary>
    public string OutputFolder => Out ?? Path.Combine("runs", "multitask");

    /// <summary>The seeds of the run: <see cref="Seed"/>, <see cref="Seed"/> + 1, ….</summary>
    public IEnumerable<int> SeedList => Enumerable.Range(Seed, Seeds);

    /// <summary>The method's name on the command line and in every output.</summary>
    public static string Name(Method method) => method.ToString().ToLowerInvariant();

    public const string Help = """
        Trains one network with a shared trunk and three heads (a 10-class classification, a
        regression whose MSE is in the hundreds, a reconstruction whose MSE is about 0.01) on
        seeded synthetic data, once per weighting method and seed, from the same initial weights
        and on the same batches, and compares the held-out metrics of the tasks:
          equal        every task weighs 1 (the baseline of the table's delta-m)
          uncertainty  Uncertainty(...)   Kendall, Gal & Cipolla 2018 (learnable log-variances)
          dwa          Dwa(...)           Liu, Johns & Davison 2019 (windows of 8 steps)
          cov          CoV(...)           Groenendijk et al. 2021
          balance      Balance(..., to: Classification): magnitudes matched to the classification's
          gradnorm     GradNorm(..., shared: the trunk's last weight)   Chen et al. 2018

        Usage: dotnet run --project examples/MultiTask -- [options]

        Options:
          --steps <n>            training steps per method and seed              (default 1000)
          --seeds <n>            seeds per method: --seed, --seed + 1, ...       (default 3)
          --seed <n>             the first seed (data, initial weights, batches) (default 42)
          --batch-size <n>       examples per step                               (default 64)
          --lr <x>               Adam learning rate                              (default 0.003)
          --methods <m,m,...>    a subset of equal, uncertainty, dwa, cov, balance, gradnorm
                                 (delta-m needs equal)                           (default all)
          --eval-every <n>       steps between held-out evaluations              (default 25)
          --log-every <n>        steps between logged training metrics           (default 5)
          --threads <n>          CPU threads for libtorch                        (default 1)
          --device <d>           cpu, cuda or auto                               (default cpu)
          --out <folder>         where outputs go                                (default runs/multitask)
          --no-progress          plain output instead of a live progress bar
          -h, --help             this text
        """;

    /// <summary>
    /// Parses and checks the arguments. Returns null and a one-line error naming the option when
    /// one is wrong; returns null and no error when help was asked for.
    /// </summary>
    public static RunOptions? Parse(IReadOnlyList<string> args, out string? error)
        => OptionParser.Parse(args, new RunOptions(), (options, name, value) => name switch
        {
            "--steps" => options with { Steps = Int(name, value(), min: 1) },
            "--seeds" => options with { Seeds = Int(name, value(), min: 1) },
            "--seed" => options with { Seed = Int(name, value(), min: 0) },
            "--batch-size" => options with { BatchSize = Int(name, value(), min: 1) },
            "--lr" => options with { LearningRate = Real(name, value(), v => v > 0, "must be greater than 0") },
            "--methods" => options with { Methods = ParseMethods(name, value()) },
            "--eval-every" => options with { EvalEvery = Int(name, value(), min: 1) },
            "--log-every" => options with { LogEvery = Int(name, value(), min: 1) },
            "--threads" => options with { Threads = Int(name, value(), min: 1) },
            "--device" => options with { Device = OneOf(name, value(), "cpu", "cuda", "auto") },
            "--out" => options with { Out = value() },
            "--no-progress" => options with { Progress = false },
            _ => null,
        }, CheckTogether, options => options.OutputFolder, out error);

    /// <summary>Checks what no single option can: the last seed, --seed + --seeds - 1, must be a seed.</summary>
    private static void CheckTogether(RunOptions options)
    {
        if ((long)options.Seed + options.Seeds - 1 > int.MaxValue)
        {
            throw new OptionException("--seeds", $"{options.Seeds} from --seed {options.Seed} goes past the largest seed, {int.MaxValue}");
        }
    }

    private static Method[] ParseMethods(string name, string text)
    {
        string[] known = Enum.GetValues<Method>().Select(Name).ToArray();
        var methods = new List<Method>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            int index = Array.FindIndex(known, k => string.Equals(k, part, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                throw new OptionException(name, $"'{part}' is not a method: use a comma-separated list of {string.Join(", ", known)}");
            }
            Method method = Enum.GetValues<Method>()[index];
            if (methods.Contains(method))
            {
                throw new OptionException(name, $"'{known[index]}' is given twice");
            }
            methods.Add(method);
        }
        return methods.ToArray();
    }
}
