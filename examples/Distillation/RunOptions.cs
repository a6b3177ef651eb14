using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LossDsl.Examples;
using static LossDsl.Examples.OptionParser;

namespace Distillation;

/// <summary>Which students a run trains.</summary>
public enum StudentMode
{
    All,
    Hard,
    Fixed,
    Dynamic,
}

/// <summary>The run's options, with their defaults. <see cref="Parse"/> checks every value before training starts.</summary>
public sealed record RunOptions
{
    public int Steps { get; init; } = 400;
    public int TeacherSteps { get; init; } = 1000;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 3e-3;
    public double Alpha { get; init; } = 0.5;
    public double Temperature { get; init; } = 2.0;
    public double Beta { get; init; } = 1.0;
    public int[] Layers { get; init; } = { 1, 2 };
    public int Seed { get; init; } = 42;
    public int Threads { get; init; } = 1;
    public string Device { get; init; } = "cpu";
    public string? Out { get; init; }
    public StudentMode Mode { get; init; } = StudentMode.All;
    public string Strategy { get; init; } = "plain";
    public int LogEvery { get; init; } = 5;
    public bool RetrainTeacher { get; init; }
    public bool Progress { get; init; } = true;
    public int EvalEvery { get; init; } = 20;
    public int Seeds { get; init; } = 1;
    public double FeatureScale { get; init; } = 1.0;
    public string? Data { get; init; }
    public Sweep? Sweep { get; init; }

    /// <summary>The seeds every student is trained on: <see cref="Seed"/>, <see cref="Seed"/> + 1, ….</summary>
    public IEnumerable<int> AllSeeds => Enumerable.Range(Seed, Seeds);

    /// <summary>Hidden layers of the teacher and of the student; layer indices must be below this.</summary>
    public const int Depth = 4;

    /// <summary>The output folder: <c>--out</c>, or <c>runs/seed-{seed}</c>.</summary>
    public string OutputFolder => Out ?? Path.Combine("runs", $"seed-{Seed}");

    public const string Help = """
        Trains a teacher, then three students from it on the same data and seed, and compares them:
          hard     hard labels only (cross-entropy)
          fixed    fixed weights, as in MaxText:  alpha*soft + (1-alpha)*hard + beta*feature
          dynamic  dynamic balancing, as in MaxText PR 4220 (the README's LossDsl formula):
                   kd = soft + feature scaled to soft,  total = hard + alpha * kd scaled to hard

        Usage: dotnet run --project examples/Distillation -- [options]

        Options:
          --steps <n>            training steps per student                  (default 400)
          --teacher-steps <n>    training steps for the teacher              (default 1000)
          --batch-size <n>       examples per step                           (default 64)
          --lr <x>               Adam learning rate                          (default 0.003)
          --alpha <x>            weight of the KD part, in [0, 1]            (default 0.5)
          --temperature <x>      softmax temperature, > 0                    (default 2)
          --beta <x>             feature weight of the fixed-weights student (default 1)
          --layers <i,j,...>     hidden layers whose features are matched,
                                 the same indices for student and teacher   (default 1,2; each in 0..3)
          --seed <n>             seed for data, models and batches           (default 42)
          --threads <n>          CPU threads for libtorch                    (default 1)
          --device <d>           cpu, cuda or auto                           (default cpu)
          --out <folder>         where outputs go                            (default runs/seed-<seed>)
          --mode <m>             all, hard, fixed or dynamic                 (default all)
          --strategy <s>         the dynamic student's scales: plain, as in PR 4220, or ema,
                                 from moving averages of the magnitudes (beta 0.9) (default plain)
          --log-every <n>        steps between logged metrics                (default 5)
          --eval-every <n>       steps between held-out evaluations          (default 20)
          --seeds <n>            train every student on n seeds: seed, seed+1, …;
                                 reports mean ± standard deviation          (default 1)
          --feature-scale <x>    multiplies the feature loss of both distillation
                                 students, > 0 (e.g. 100: an unnormalised feature loss) (default 1)
          --data <folder>        train on MNIST-format IDX files (MNIST, Fashion-MNIST; packed
                                 .gz or not) instead of the synthetic task
          --sweep <name=v,v,…>   fixed weights at each value of beta, alpha or feature-scale
                                 against dynamic balancing at the defaults (over the seeds)
          --retrain-teacher      train the teacher even if a cached one matches
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
            "--teacher-steps" => options with { TeacherSteps = Int(name, value(), min: 1) },
            "--batch-size" => options with { BatchSize = Int(name, value(), min: 1) },
            "--lr" => options with { LearningRate = Real(name, value(), v => v > 0, "must be greater than 0") },
            "--alpha" => options with { Alpha = Real(name, value(), v => v is >= 0 and <= 1, "must be between 0 and 1") },
            "--temperature" => options with { Temperature = Real(name, value(), v => v > 0, "must be greater than 0") },
            "--beta" => options with { Beta = Real(name, value(), v => v >= 0, "must be 0 or more") },
            "--layers" => options with { Layers = ParseLayers(name, value()) },
            "--seed" => options with { Seed = Int(name, value(), min: 0) },
            "--threads" => options with { Threads = Int(name, value(), min: 1) },
            "--device" => options with { Device = OneOf(name, value(), "cpu", "cuda", "auto") },
            "--out" => options with { Out = value() },
            "--mode" => options with { Mode = Enum.Parse<StudentMode>(OneOf(name, value(), "all", "hard", "fixed", "dynamic"), ignoreCase: true) },
            "--strategy" => options with { Strategy = OneOf(name, value(), "plain", "ema") },
            "--log-every" => options with { LogEvery = Int(name, value(), min: 1) },
            "--retrain-teacher" => options with { RetrainTeacher = true },
            "--no-progress" => options with { Progress = false },
            "--eval-every" => options with { EvalEvery = Int(name, value(), min: 1) },
            "--seeds" => options with { Seeds = Int(name, value(), min: 1) },
            "--feature-scale" => options with { FeatureScale = Real(name, value(), v => v > 0, "must be greater than 0") },
            "--data" => options with { Data = DataFolder(name, value()) },
            "--sweep" => options with { Sweep = ParseSweep(name, value()) },
            _ => null,
        }, CheckTogether, options => options.OutputFolder, out error);

    /// <summary>Checks what no single option can: a sweep compares the fixed and dynamic students, so it needs every student.</summary>
    private static void CheckTogether(RunOptions options)
    {
        if (options.Sweep is not null && options.Mode != StudentMode.All)
        {
            throw new OptionException("--sweep", $"compares the fixed and dynamic students: it cannot be combined with --mode {options.Mode.ToString().ToLowerInvariant()}");
        }
    }

    private static string DataFolder(string name, string text)
        => IdxTask.Check(text) is { } problem ? throw new OptionException(name, problem) : text;

    private static Sweep ParseSweep(string name, string text)
    {
        int equals = text.IndexOf('=');
        string parameter = equals < 0 ? text : text[..equals].Trim().ToLowerInvariant();
        (Func<double, bool> Valid, string Rule) check = parameter switch
        {
            "beta" => (v => v >= 0, "must be 0 or more"),
            "alpha" => (v => v is >= 0 and <= 1, "must be between 0 and 1"),
            "feature-scale" => (v => v > 0, "must be greater than 0"),
            _ => throw new OptionException(name, $"must be beta=…, alpha=… or feature-scale=… followed by comma-separated values, not '{text}'"),
        };
        if (equals < 0 || equals == text.Length - 1)
        {
            throw new OptionException(name, $"needs values after '{parameter}=', e.g. {parameter}=0.1,1,10");
        }
        var values = new List<double>();
        foreach (string part in text[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            {
                throw new OptionException(name, $"{parameter} value '{part}' is not a number");
            }
            if (!check.Valid(value))
            {
                throw new OptionException(name, $"{parameter} value {part} {check.Rule}");
            }
            if (values.Contains(value))
            {
                throw new OptionException(name, $"{parameter} value {part} is given twice");
            }
            values.Add(value);
        }
        return new Sweep(parameter, values.ToArray());
    }

    private static int[] ParseLayers(string name, string text)
    {
        var layers = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int layer))
            {
                throw new OptionException(name, $"must be a comma-separated list of layer indices, not '{text}'");
            }
            if (layer < 0 || layer >= Depth)
            {
                throw new OptionException(name, $"index {layer} is out of range: the models have {Depth} hidden layers (0..{Depth - 1})");
            }
            if (layers.Contains(layer))
            {
                throw new OptionException(name, $"index {layer} is given twice");
            }
            layers.Add(layer);
        }
        return layers.ToArray();
    }
}

/// <summary>A robustness sweep: the fixed-weights student at each value of one parameter.</summary>
/// <param name="Parameter">beta, alpha or feature-scale.</param>
public sealed record Sweep(string Parameter, double[] Values);
