using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using LossDsl.Examples;
using LossDsl.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Memory;

/// <summary>How a child's glibc allocator is set up.</summary>
public enum AllocatorSetting
{
    /// <summary>glibc's defaults: dynamic mmap threshold, trim threshold twice it.</summary>
    Default,

    /// <summary><see cref="NativeAllocator.Pin"/> at start-up (mallopt).</summary>
    Mallopt,

    /// <summary><c>MALLOC_MMAP_THRESHOLD_</c> and <c>MALLOC_TRIM_THRESHOLD_</c> set to the same values before the process starts.</summary>
    Environment,
}

/// <summary>What the process did before the training steps.</summary>
public enum ProcessHistory
{
    /// <summary>Nothing: the inputs are the first tensors.</summary>
    Fresh,

    /// <summary>
    /// One 30 MiB tensor written and freed before the inputs: glibc raises its dynamic mmap
    /// threshold to that size (and the trim threshold to twice it), as a process that loaded a
    /// model or a batch of that size has.
    /// </summary>
    LargeFreed,
}

/// <summary>
/// The allocator effect (<c>-- allocator</c>): time and minor page faults per call of the full
/// regime (the README's distillation loss, forward+backward, gradients released as
/// <c>zero_grad</c> does) under glibc's default, <see cref="NativeAllocator.Pin"/> and the two
/// environment variables, each in its own process, after two process histories. See
/// benchmarks/README.md, "The allocator".
/// </summary>
public static class AllocatorEffect
{
    private const int WarmUpCalls = 5;

    /// <summary>Bytes of the tensor <see cref="ProcessHistory.LargeFreed"/> writes and frees.</summary>
    private const long LargeFreedBytes = 30L << 20;

    /// <summary>
    /// <c>-- allocator [--shape BxSxV]… [--calls N] [--rounds N] [--threads N]</c>: every
    /// setting × history × shape in its own process, interleaved over rounds; the markdown table.
    /// </summary>
    public static string Run(IReadOnlyList<string> options)
    {
        var shapes = new List<LogitsShape>();
        int calls = 30;
        int rounds = 3;
        int threads = 1;
        foreach (var (name, value) in CommandOptions.Pairs(options))
        {
            switch (name)
            {
                case "--shape":
                    shapes.Add(LogitsShape.Parse(value));
                    break;
                case "--calls":
                    calls = CommandOptions.Positive(value, "--calls");
                    break;
                case "--rounds":
                    rounds = CommandOptions.Positive(value, "--rounds");
                    break;
                case "--threads":
                    threads = CommandOptions.Positive(value, "--threads");
                    break;
                default:
                    throw new ArgumentException($"unknown option '{name}' for allocator: its options are --shape, --calls, --rounds and --threads.");
            }
        }
        if (shapes.Count == 0)
        {
            shapes.Add(new LogitsShape(8, 128, 4096));
            shapes.Add(new LogitsShape(8, 128, 8192));
        }

        var configurations = (
            from shape in shapes
            from history in Enum.GetValues<ProcessHistory>()
            from setting in Enum.GetValues<AllocatorSetting>()
            select (shape, history, setting)).ToArray();
        var results = configurations.ToDictionary(c => c, _ => new List<ChildResult>());
        string loadBefore = Machine.LoadAverage();
        DateTime started = DateTime.UtcNow;
        for (int round = 0; round < rounds; round++)
        {
            foreach (var c in configurations)
            {
                Console.Error.WriteLine($"allocator: round {round + 1}/{rounds}, {c.shape}, {c.history}, {c.setting} …");
                var environment = c.setting == AllocatorSetting.Environment
                    ? new Dictionary<string, string>
                    {
                        ["MALLOC_MMAP_THRESHOLD_"] = NativeAllocator.MmapThreshold.ToString(CultureInfo.InvariantCulture),
                        ["MALLOC_TRIM_THRESHOLD_"] = NativeAllocator.TrimThreshold.ToString(CultureInfo.InvariantCulture),
                    }
                    : null;
                results[c].Add(ChildProcess.RunSelf(
                    new[] { "allocator-child", c.setting.ToString(), c.history.ToString(), c.shape.ToString(), calls.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture) },
                    environment));
            }
        }

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture,
            $"The full regime (the README's DistillationLoss, forward+backward), {calls} calls after {WarmUpCalls} warm-up calls per process, {rounds} processes per row (interleaved), {threads} libtorch thread(s); " +
            $"pinned thresholds: mmap {NativeAllocator.MmapThreshold >> 20} MiB, trim {NativeAllocator.TrimThreshold >> 20} MiB; {started:yyyy-MM-dd HH:mm} UTC, load {loadBefore} before, {Machine.LoadAverage()} after");
        table.AppendLine();
        table.AppendLine("| logits | history | allocator | ms per call (median) | × default | minor faults per call | resident after the calls (MB) | peak resident (MB) |");
        table.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in configurations)
        {
            var errors = results[c].Where(r => r.Error is not null).Select(r => r.Error).ToArray();
            if (errors.Length > 0)
            {
                table.AppendLine($"| {c.shape} | {Describe(c.history)} | {Describe(c.setting)} | not measured: {errors[0]!.Replace('|', '/').Replace('\n', ' ')} | | | | |");
                continue;
            }
            double milliseconds = Median(results[c].Select(r => r.Number("median_ms")));
            var baseline = results[(c.shape, c.history, AllocatorSetting.Default)];
            string ratio = baseline.Any(r => r.Error is not null)
                ? "—"
                : (milliseconds / Median(baseline.Select(r => r.Number("median_ms")))).ToString("F2", CultureInfo.InvariantCulture);
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {c.shape} | {Describe(c.history)} | {Describe(c.setting)} | {milliseconds:F1} | {ratio} | {Median(results[c].Select(r => r.Number("faults"))):F0} | " +
                $"{Median(results[c].Select(r => r.Number("resident"))) / 1e6:F0} | {Median(results[c].Select(r => r.Number("peak"))) / 1e6:F0} |");
        }
        return table.ToString();
    }

    /// <summary>
    /// <c>allocator-child SETTING HISTORY BxSxV CALLS THREADS</c>: sets the allocator up, plays the
    /// history, makes the inputs, and reports the median time and the mean minor faults per call,
    /// the resident set after the calls and its peak.
    /// </summary>
    public static int Child(IReadOnlyList<string> arguments)
    {
        var setting = Enum.Parse<AllocatorSetting>(arguments[0]);
        var history = Enum.Parse<ProcessHistory>(arguments[1]);
        var shape = LogitsShape.Parse(arguments[2]);
        int calls = CommandOptions.Positive(arguments[3], "call count");
        bool variables = ChildProcess.AllocatorVariables.Any(name => System.Environment.GetEnvironmentVariable(name) is not null);
        if (variables != (setting == AllocatorSetting.Environment))
        {
            throw new InvalidOperationException($"the child for {setting} was started {(variables ? "with" : "without")} glibc's variables.");
        }
        if (setting == AllocatorSetting.Mallopt)
        {
            // Before the first tensor, as the examples do.
            string pinned = NativeAllocator.Pin();
            if (!pinned.StartsWith($"glibc thresholds pinned (mmap {NativeAllocator.MmapThreshold >> 20} MiB,", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"NativeAllocator.Pin did not pin: {pinned}");
            }
        }
        torch.set_num_threads(CommandOptions.Positive(arguments[4], "thread count"));

        if (history == ProcessHistory.LargeFreed)
        {
            using Tensor large = ones(LargeFreedBytes / sizeof(float));
        }
        using var inputs = new MemoryInputs(shape, features: true);
        var loss = new DistillationLoss { Alpha = 0.5, Temperature = PeakMemory.Temperature };
        for (int i = 0; i < WarmUpCalls; i++)
        {
            Call(loss, inputs);
        }

        var milliseconds = new double[calls];
        long faults = 0;
        for (int i = 0; i < calls; i++)
        {
            long faultsBefore = ProcessMemory.MinorFaults();
            long started = Stopwatch.GetTimestamp();
            Call(loss, inputs);
            milliseconds[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            faults += ProcessMemory.MinorFaults() - faultsBefore;
        }
        ChildProcess.Report(
            ("median_ms", Median(milliseconds)),
            ("faults", (double)faults / calls),
            ("resident", ProcessMemory.Resident()),
            ("peak", ProcessMemory.Peak()));
        return 0;
    }

    /// <summary>One training step's loss: forward, backward, the gradients released.</summary>
    private static void Call(DistillationLoss loss, MemoryInputs inputs)
    {
        using (DistillationLossResult result = loss.Compute(inputs.Student, inputs.Teacher, inputs.Labels, inputs.StudentFeatures!, inputs.TeacherFeatures!))
        {
            result.Total.backward();
        }
        inputs.ReleaseGradients();
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Describe(ProcessHistory history) => history switch
    {
        ProcessHistory.Fresh => "fresh",
        ProcessHistory.LargeFreed => "a 30 MiB tensor freed first",
        _ => throw new ArgumentOutOfRangeException(nameof(history), history, "no description for this history."),
    };

    private static string Describe(AllocatorSetting setting) => setting switch
    {
        AllocatorSetting.Default => "glibc default",
        AllocatorSetting.Mallopt => "`NativeAllocator.Pin()` (mallopt)",
        AllocatorSetting.Environment => "`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`",
        _ => throw new ArgumentOutOfRangeException(nameof(setting), setting, "no description for this setting."),
    };
}
