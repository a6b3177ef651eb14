using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using LossDsl.Examples;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Eager;

/// <summary>
/// What the <c>terms</c> and <c>eager</c> commands share: their options, the set-up of both
/// runtimes (threads, allocator), the header of their report, and a C# contender's timed loop.
/// </summary>
public static class EagerRun
{
    /// <summary>The options of a command: <c>[--rounds R] [--iterations N] [--warmup W] [--threads T]</c>.</summary>
    public sealed record Options(RoundPlan Plan, int Threads);

    /// <summary>
    /// Reads the options after the command's name, starting from <paramref name="defaults"/>;
    /// null and a message naming the culprit if one is unknown or not a positive whole number.
    /// </summary>
    public static Options? Parse(string[] args, Options defaults, out string error)
    {
        var plan = defaults.Plan;
        int threads = defaults.Threads;
        for (int i = 1; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
            {
                error = $"option '{args[i]}' needs a whole number of at least 1 after it, not '{(i + 1 < args.Length ? args[i + 1] : "")}'";
                return null;
            }
            switch (args[i])
            {
                case "--rounds":
                    plan = plan with { Rounds = value };
                    break;
                case "--iterations":
                    plan = plan with { Iterations = value };
                    break;
                case "--warmup":
                    plan = plan with { Warmup = value };
                    break;
                case "--threads":
                    threads = value;
                    break;
                default:
                    error = $"unknown option '{args[i]}'; the options are --rounds, --iterations, --warmup and --threads";
                    return null;
            }
        }
        error = "";
        return new Options(plan, threads);
    }

    /// <summary>
    /// Pins this process's allocator (before the first tensor), sets libtorch's threads, starts
    /// PyTorch if it can, and writes the report's header: date, machine, load, threads, both
    /// allocators, the plan. Returns the PyTorch child, or null when PyTorch is not measured.
    /// </summary>
    public static PyTorchEager? Start(string command, Options options, StringBuilder report)
    {
        string allocator = NativeAllocator.Pin();
        torch.set_num_threads(options.Threads);
        PyTorchEager? pytorch = PyTorchEager.TryStart(options.Threads, out string whyNot);
        report.Append(CultureInfo.InvariantCulture, $"Command: dotnet run -c Release --project benchmarks/LossDsl.Benchmarks -- {command} --rounds {options.Plan.Rounds} --iterations {options.Plan.Iterations} --warmup {options.Plan.Warmup} --threads {options.Threads}\n");
        report.Append(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; load average at the start (1 / 5 / 15 min): {Machine.LoadAverage()}\n");
        report.Append(CultureInfo.InvariantCulture, $"TorchSharp: {torch.get_num_threads()} threads, allocator: {allocator}\n");
        report.Append(pytorch is null
            ? $"PyTorch eager: not measured ({whyNot})\n"
            : $"PyTorch eager ({PythonScript.Interpreter()} benchmarks/pytorch/eager_time.py): {pytorch.Info}\n");
        report.Append(CultureInfo.InvariantCulture,
            $"Method: {options.Plan.Warmup} warm-up iterations each, then {options.Plan.Rounds} interleaved rounds of {options.Plan.Iterations} timed iterations per implementation; median time per iteration; ratios: median of the per-round ratios (min–max over rounds)\n\n");
        return pytorch;
    }

    /// <summary>
    /// A C# contender: each iteration computes the loss in its own dispose scope and, with
    /// <paramref name="backward"/>, runs <c>backward()</c> on it and sets the gradients of
    /// <paramref name="leaves"/> to none again (as PyTorch's <c>leaf.grad = None</c>), so that
    /// every iteration writes fresh gradients rather than accumulating.
    /// </summary>
    public static Contender Timed(string name, Func<Tensor> loss, bool backward, params Tensor[] leaves) => new(name, iterations =>
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            using var scope = NewDisposeScope();
            Tensor value = loss();
            if (backward)
            {
                value.backward();
                foreach (Tensor leaf in leaves)
                {
                    leaf.grad = null;
                }
            }
        }
        return clock.Elapsed.TotalSeconds;
    });

    /// <summary>The PyTorch contender of a case, or null when PyTorch is not measured.</summary>
    public static Contender? Timed(string name, PyTorchEager? pytorch, string @case, bool backward)
        => pytorch is null ? null : new Contender(name, iterations => pytorch.Run(@case, backward, iterations));
}
