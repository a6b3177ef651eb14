using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using LossDsl.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Memory;

/// <summary>The losses the peak-memory table compares.</summary>
public enum MemoryLoss
{
    /// <summary>The method check: one tensor of the logits' size, allocated and written; no loss, no backward.</summary>
    Check,

    /// <summary>The distillation (KD) loss: KL(teacher_T ‖ student_T) × T², T = 2, averaged over positions.</summary>
    Kd,

    /// <summary>Cross-entropy with class-index labels, averaged over positions.</summary>
    CrossEntropy,

    /// <summary>The README's distillation loss (cross-entropy, KD, cosine distance of features, balanced).</summary>
    Full,
}

/// <summary>
/// One row of the peak-memory table. A row with <see cref="Compute"/> runs in a child of this
/// benchmark; one without runs in <c>benchmarks/pytorch/eager_memory.py</c> under its <see cref="Id"/>.
/// </summary>
/// <param name="Id">The name a child is started with (<c>memory-child ID</c>, or the script's first argument).</param>
/// <param name="Loss">What it computes.</param>
/// <param name="Implementation">How, for the table.</param>
/// <param name="Compute">The forward pass on the child's inputs; null for PyTorch eager.</param>
public sealed record MemoryCase(string Id, MemoryLoss Loss, string Implementation, Func<MemoryInputs, Tensor>? Compute);

/// <summary>
/// Peak memory of one forward+backward per implementation (<c>-- memory</c>), each in its own
/// process: the extra resident memory (VmHWM) the step needs over what was resident before it,
/// the inputs included, with the loss value and the student's gradient still alive at the
/// measurement, as in training. See benchmarks/README.md, "Peak memory".
/// </summary>
public static class PeakMemory
{
    /// <summary>The KD loss's temperature.</summary>
    public const double Temperature = 2.0;

    /// <summary>
    /// The rows, in table order. A new implementation is one line here (a TorchSharp one, run in a
    /// child of this benchmark) or one line here and a function in eager_memory.py (PyTorch).
    /// </summary>
    public static readonly MemoryCase[] Cases =
    {
        new("check", MemoryLoss.Check, "one logits-sized tensor, written (TorchSharp)", i => ones(i.Shape.Batch, i.Shape.Sequence, i.Shape.Vocabulary)),
        new("check-eager", MemoryLoss.Check, "one logits-sized tensor, written (PyTorch)", null),
        new("kd-lossdsl", MemoryLoss.Kd, "LossDsl `Losses.SoftTargetKl` (chunked: `Chunking.Auto`)", i => Losses.SoftTargetKl(i.Student, i.Teacher, Temperature)),
        new("kd-lossdsl-off", MemoryLoss.Kd, "LossDsl `Losses.SoftTargetKl` (`Chunking.Off`)", i => Losses.SoftTargetKl(i.Student, i.Teacher, Temperature, Chunking.Off)),
        new("kd-kl-div", MemoryLoss.Kd, "TorchSharp `kl_div(log_target: true)`, one dispose scope", KdFunctional),
        new("kd-lean", MemoryLoss.Kd, "TorchSharp `kl_div(log_target: true)`, each temporary disposed when dead", KdLean),
        new("kd-eager", MemoryLoss.Kd, "PyTorch eager `F.kl_div(log_target=True)`", null),
        new("ce-lossdsl", MemoryLoss.CrossEntropy, "LossDsl `Losses.CrossEntropy` (chunked: `Chunking.Auto`)", i => Losses.CrossEntropy(i.Student, i.Labels)),
        new("ce-lossdsl-off", MemoryLoss.CrossEntropy, "LossDsl `Losses.CrossEntropy` (`Chunking.Off`)", i => Losses.CrossEntropy(i.Student, i.Labels, chunking: Chunking.Off)),
        new("ce-functional", MemoryLoss.CrossEntropy, "TorchSharp `cross_entropy`", CrossEntropyFunctional),
        new("ce-eager", MemoryLoss.CrossEntropy, "PyTorch eager `F.cross_entropy`", null),
        new("full-lossdsl", MemoryLoss.Full, "LossDsl, the README's `DistillationLoss`", FullGenerated),
        new("full-eager", MemoryLoss.Full, "PyTorch eager, the same terms and balancing", null),
    };

    /// <summary>
    /// <c>-- memory [--shape BxSxV] [--threads N] [--repeats R] [--only PREFIX]</c>: runs every case in its own
    /// process and returns the markdown table, or throws <see cref="ArgumentException"/> for a bad option.
    /// </summary>
    public static string Run(IReadOnlyList<string> options)
    {
        var shape = LogitsShape.Large;
        int threads = 1;
        int repeats = 3;
        string only = "";
        foreach (var (name, value) in CommandOptions.Pairs(options))
        {
            switch (name)
            {
                case "--shape":
                    shape = LogitsShape.Parse(value);
                    break;
                case "--threads":
                    threads = CommandOptions.Positive(value, "--threads");
                    break;
                case "--only":
                    only = value;
                    break;
                case "--repeats":
                    repeats = CommandOptions.Positive(value, "--repeats");
                    break;
                default:
                    throw new ArgumentException($"unknown option '{name}' for memory: its options are --shape, --threads, --repeats and --only.");
            }
        }
        MemoryCase[] cases = Cases.Where(c => c.Id.StartsWith(only, StringComparison.Ordinal)).ToArray();
        if (cases.Length == 0)
        {
            throw new ArgumentException($"--only {only} matches no case: the cases are {string.Join(", ", Cases.Select(c => c.Id))}.");
        }

        string python = PythonScript.Interpreter();
        string script = PythonScript.Path("eager_memory.py");
        var table = new StringBuilder();
        double logitsBytes = 2.0 * shape.Bytes;
        table.AppendLine(CultureInfo.InvariantCulture,
            $"Peak memory of one forward+backward, logits {shape} float32 (two tensors of {shape.Bytes / 1e6:F0} MB), {threads} thread(s) in each runtime, median of {repeats} processes per row, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {Machine.LoadAverage()}");
        table.AppendLine();
        table.AppendLine("| loss | implementation | extra peak (MB) | × the two logits | range over the processes (×) | loss value |");
        table.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach (MemoryCase c in cases)
        {
            Console.Error.WriteLine($"memory: {c.Id} …");
            string[] arguments = { c.Id, shape.ToString(), threads.ToString(CultureInfo.InvariantCulture) };
            var extras = new List<double>();
            double loss = double.NaN;
            string? error = null;
            // The allocator's state differs from process to process (what it keeps of freed blocks), so one
            // process's peak is one draw: each row is the median of several.
            for (int run = 0; run < repeats && error is null; run++)
            {
                ChildResult result = c.Compute is null
                    ? ChildProcess.Run(python, new[] { script }.Concat(arguments).ToArray())
                    : ChildProcess.RunSelf(new[] { "memory-child" }.Concat(arguments).ToArray());
                if (result.Error is not null)
                {
                    error = result.Error;
                    break;
                }
                extras.Add(result.Number("extra"));
                loss = result.Number("loss");
            }
            if (error is not null)
            {
                table.AppendLine($"| {Describe(c.Loss)} | {c.Implementation} | not measured: {error.Replace('|', '/').Replace('\n', ' ')} | | | |");
                continue;
            }
            extras.Sort();
            double extra = extras[extras.Count / 2];
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {Describe(c.Loss)} | {c.Implementation} | {extra / 1e6:F0} | {extra / logitsBytes:F2} | {extras[0] / logitsBytes:F2}–{extras[^1] / logitsBytes:F2} | {(double.IsNaN(loss) ? "—" : loss.ToString("G7", CultureInfo.InvariantCulture))} |");
        }
        table.AppendLine();
        table.AppendLine($"Load after: {Machine.LoadAverage()}");
        return table.ToString();
    }

    /// <summary>
    /// <c>memory-child ID BxSxV THREADS</c>: makes the inputs, runs one warm-up step and releases
    /// it, resets the peak, runs one step (forward, backward) and reports the peak over the
    /// resident set before it, while the loss and the student's gradient are alive.
    /// </summary>
    public static int Child(IReadOnlyList<string> arguments)
    {
        MemoryCase c = Cases.SingleOrDefault(c => c.Id == arguments[0] && c.Compute is not null)
            ?? throw new ArgumentException($"no TorchSharp memory case '{arguments[0]}'.");
        var shape = LogitsShape.Parse(arguments[1]);
        torch.set_num_threads(CommandOptions.Positive(arguments[2], "thread count"));
        using var inputs = new MemoryInputs(shape, features: c.Loss == MemoryLoss.Full);

        Step(c, inputs).Dispose();
        inputs.ReleaseGradients();
        GC.Collect();
        GC.WaitForPendingFinalizers();

        ProcessMemory.ResetPeak();
        long before = ProcessMemory.Resident();
        using Tensor value = Step(c, inputs);
        long peak = ProcessMemory.Peak();

        bool hasGradient = c.Loss == MemoryLoss.Check || inputs.Student.grad is not null;
        if (!hasGradient)
        {
            throw new InvalidOperationException($"{c.Id}: the backward wrote no gradient to the student logits.");
        }
        double loss = value.numel() == 1 ? value.item<float>() : double.NaN;
        ChildProcess.Report(("extra", peak - before), ("before", before), ("peak", peak), ("loss", loss));
        return 0;
    }

    /// <summary>One step: the forward, and the backward of a loss (the method check has none).</summary>
    private static Tensor Step(MemoryCase c, MemoryInputs inputs)
    {
        Tensor value = c.Compute!(inputs);
        if (c.Loss != MemoryLoss.Check)
        {
            value.backward();
        }
        return value;
    }

    private static Tensor KdFunctional(MemoryInputs i)
    {
        using var scope = NewDisposeScope();
        var student = nn.functional.log_softmax(i.Student / Temperature, -1);
        var teacher = nn.functional.log_softmax(i.Teacher.detach() / Temperature, -1);
        var loss = nn.functional.kl_div(student, teacher, reduction: nn.Reduction.Sum, log_target: true) * (Temperature * Temperature / i.Shape.Positions);
        return scope.MoveToOuter(loss);
    }

    private static Tensor KdLean(MemoryInputs i)
    {
        Tensor student;
        using (Tensor scaled = i.Student / Temperature)
        {
            student = nn.functional.log_softmax(scaled, -1);
        }
        Tensor teacher;
        using (Tensor scaled = i.Teacher.detach() / Temperature)
        {
            teacher = nn.functional.log_softmax(scaled, -1);
        }
        using Tensor sum = nn.functional.kl_div(student, teacher, reduction: nn.Reduction.Sum, log_target: true);
        student.Dispose();
        teacher.Dispose();
        return sum * (Temperature * Temperature / i.Shape.Positions);
    }

    private static Tensor CrossEntropyFunctional(MemoryInputs i)
    {
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(i.Student.reshape(-1, i.Shape.Vocabulary), i.Labels.reshape(-1));
        return scope.MoveToOuter(loss);
    }

    private static Tensor FullGenerated(MemoryInputs i)
    {
        var loss = new DistillationLoss { Alpha = 0.5, Temperature = Temperature };
        using DistillationLossResult result = loss.Compute(i.Student, i.Teacher, i.Labels, i.StudentFeatures!, i.TeacherFeatures!);
        return result.Total.alias();
    }

    private static string Describe(MemoryLoss loss) => loss switch
    {
        MemoryLoss.Check => "method check",
        MemoryLoss.Kd => "KD, T = 2",
        MemoryLoss.CrossEntropy => "cross-entropy",
        MemoryLoss.Full => "full distillation loss",
        _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "no description for this loss."),
    };
}
