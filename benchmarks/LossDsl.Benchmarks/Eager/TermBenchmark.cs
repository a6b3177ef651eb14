using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using LossDsl.Benchmarks.HotPath;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Eager;

/// <summary>
/// Each term alone, three ways, on the full regime's shapes (logits 8 × 128 × 4096, features
/// 4 × 8 × 128 × 512, float32): LossDsl's <see cref="Losses"/>, the same math with TorchSharp's
/// functionals, and PyTorch eager (<c>benchmarks/pytorch/eager_time.py</c>, the same functionals
/// in PyTorch); forward, and forward with <c>backward()</c> to the student's logits or features.
/// Run with: dotnet run -c Release (project benchmarks/LossDsl.Benchmarks) -- terms
/// </summary>
public static class TermBenchmark
{
    /// <summary>Defaults that keep the command to a few minutes on this machine.</summary>
    public static readonly EagerRun.Options Defaults = new(new RoundPlan(Warmup: 3, Rounds: 7, Iterations: 3), Threads: 2);

    private const long IgnoreIndex = -100;
    private const double LabelSmoothing = 0.1;
    private const double Beta = 0.5;

    /// <summary>One term: its name in the table, its case in eager_time.py, and its two C# forms.</summary>
    private sealed record Term(string Name, string Case, Func<TermInputs, Tensor> LossDsl, Func<TermInputs, Tensor> Functional, bool OnLogits);

    private static readonly Term[] Terms =
    {
        new("CrossEntropy", "cross_entropy",
            x => Losses.CrossEntropy(x.StudentLogits, x.Labels),
            x => nn.functional.cross_entropy(Rows(x.StudentLogits), x.Labels.reshape(-1)), OnLogits: true),
        new("CrossEntropy, ignore index (1 in 8) and label smoothing 0.1", "cross_entropy_ignore_smooth",
            x => Losses.CrossEntropy(x.StudentLogits, x.IgnoredLabels, ignoreIndex: IgnoreIndex, labelSmoothing: LabelSmoothing),
            x => nn.functional.cross_entropy(Rows(x.StudentLogits), x.IgnoredLabels.reshape(-1), ignore_index: IgnoreIndex, label_smoothing: LabelSmoothing), OnLogits: true),
        new("SoftTargetKl, T = 2", "soft_target_kl",
            x => Losses.SoftTargetKl(x.StudentLogits, x.TeacherLogits, HotPathInputs.Temperature),
            x => ExpertDistillation.SoftTargetKl(x.StudentLogits, x.TeacherLogits, HotPathInputs.Temperature), OnLogits: true),
        new("ReverseKl, T = 2", "reverse_kl",
            x => Losses.ReverseKl(x.StudentLogits, x.TeacherLogits, HotPathInputs.Temperature),
            x => KlDiv(LogProbs(x.TeacherLogits.detach()), LogProbs(x.StudentLogits)) * (HotPathInputs.Temperature * HotPathInputs.Temperature), OnLogits: true),
        new("JensenShannon, β = 0.5, T = 2", "jensen_shannon",
            x => Losses.JensenShannon(x.StudentLogits, x.TeacherLogits, Beta, HotPathInputs.Temperature),
            JensenShannon, OnLogits: true),
        new("BinaryCrossEntropyWithLogits", "bce_with_logits",
            x => Losses.BinaryCrossEntropyWithLogits(x.StudentLogits, x.BinaryTargets),
            x => nn.functional.binary_cross_entropy_with_logits(x.StudentLogits, x.BinaryTargets), OnLogits: true),
        new("CosineDistance", "cosine_distance",
            x => Losses.CosineDistance(x.StudentFeatures, x.TeacherFeatures),
            x => ExpertDistillation.CosineDistance(x.StudentFeatures, x.TeacherFeatures), OnLogits: false),
        new("Mse", "mse",
            x => Losses.Mse(x.StudentFeatures, x.TeacherFeatures),
            x => nn.functional.mse_loss(x.StudentFeatures, x.TeacherFeatures), OnLogits: false),
    };

    /// <summary>Measures every term and returns the report: a header and a markdown table.</summary>
    public static string Run(EagerRun.Options options)
    {
        var report = new StringBuilder();
        using PyTorchEager? pytorch = EagerRun.Start("terms", options, report);
        using var inputs = new TermInputs();
        report.Append("| term | pass | LossDsl (ms) | functional (ms) | PyTorch (ms) | LossDsl / functional | LossDsl / PyTorch | functional / PyTorch | value: functional vs LossDsl | value: PyTorch vs LossDsl |\n");
        report.Append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        foreach (Term term in Terms)
        {
            Tensor leaf = term.OnLogits ? inputs.StudentLogits : inputs.StudentFeatures;
            var (functionalDifference, pytorchDifference) = Agreement(term, inputs, pytorch);
            foreach (bool backward in new[] { false, true })
            {
                var contenders = new List<Contender>
                {
                    EagerRun.Timed("LossDsl", () => term.LossDsl(inputs), backward, leaf),
                    EagerRun.Timed("functional", () => term.Functional(inputs), backward, leaf),
                };
                if (EagerRun.Timed("PyTorch", pytorch, term.Case, backward) is Contender eager)
                {
                    contenders.Add(eager);
                }
                var rounds = InterleavedRounds.Measure(contenders, options.Plan);
                string pytorchTime = pytorch is null ? "not measured" : rounds.Milliseconds("PyTorch");
                string lossDslToPyTorch = pytorch is null ? "–" : rounds.RatioCell("LossDsl", "PyTorch");
                string functionalToPyTorch = pytorch is null ? "–" : rounds.RatioCell("functional", "PyTorch");
                report.Append(CultureInfo.InvariantCulture,
                    $"| {term.Name} | {(backward ? "forward+backward" : "forward")} | {rounds.Milliseconds("LossDsl")} | {rounds.Milliseconds("functional")} | {pytorchTime} | {rounds.RatioCell("LossDsl", "functional")} | {lossDslToPyTorch} | {functionalToPyTorch} | {(backward ? "" : functionalDifference)} | {(backward ? "" : pytorchDifference)} |\n");
            }
        }
        report.Append(CultureInfo.InvariantCulture, $"\nLoad average at the end (1 / 5 / 15 min): {Machine.LoadAverage()}\n");
        return report.ToString();
    }

    /// <summary>
    /// |functional − LossDsl| / |LossDsl| and |PyTorch − LossDsl| / |LossDsl| of one forward: that
    /// the three compute the same term on the same inputs (the C# inputs are drawn from the seed and
    /// in the order eager_time.py draws them, which gives PyTorch 1.13 the same numbers).
    /// </summary>
    private static (string Functional, string PyTorch) Agreement(Term term, TermInputs inputs, PyTorchEager? pytorch)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double lossDsl = term.LossDsl(inputs).to(ScalarType.Float64).item<double>();
        double functional = term.Functional(inputs).to(ScalarType.Float64).item<double>();
        string Relative(double other) => (Math.Abs(other - lossDsl) / Math.Abs(lossDsl)).ToString("0.0E+0", CultureInfo.InvariantCulture);
        return (Relative(functional), pytorch is null ? "–" : Relative(pytorch.Value(term.Case)));
    }

    /// <summary>Positions as rows: cross_entropy wants the classes in dimension 1.</summary>
    private static Tensor Rows(Tensor logits) => logits.reshape(-1, logits.shape[^1]);

    private static Tensor LogProbs(Tensor logits) => nn.functional.log_softmax(Rows(logits) / HotPathInputs.Temperature, -1);

    /// <summary>Σ exp(target) (target − input) over position rows, divided by the rows (PyTorch's "batchmean").</summary>
    private static Tensor KlDiv(Tensor input, Tensor target)
        => nn.functional.kl_div(input, target, log_target: true, reduction: nn.Reduction.Sum) / input.shape[0];

    /// <summary>β KL(P ‖ M) + (1 − β) KL(Q ‖ M), M = β P + (1 − β) Q in log space with logsumexp, × T².</summary>
    private static Tensor JensenShannon(TermInputs x)
    {
        Tensor student = LogProbs(x.StudentLogits), teacher = LogProbs(x.TeacherLogits.detach());
        Tensor mixture = stack(new[] { teacher + Math.Log(Beta), student + Math.Log(1 - Beta) }).logsumexp(0);
        return (KlDiv(mixture, teacher) * Beta + KlDiv(mixture, student) * (1 - Beta)) * (HotPathInputs.Temperature * HotPathInputs.Temperature);
    }

    /// <summary>The full regime's inputs, and the two the extra terms need: labels with padding, binary targets.</summary>
    private sealed class TermInputs : IDisposable
    {
        private readonly HotPathInputs _inputs = HotPathInputs.Realistic();

        public TermInputs()
        {
            IgnoredLabels = _inputs.Labels.clone();
            // Every eighth position is padding.
            IgnoredLabels.view(-1)[TensorIndex.Slice(null, null, 8)] = tensor(IgnoreIndex);
            BinaryTargets = rand(_inputs.StudentLogits.shape);
        }

        public Tensor StudentLogits => _inputs.StudentLogits;
        public Tensor TeacherLogits => _inputs.TeacherLogits;
        public Tensor Labels => _inputs.Labels;
        public Tensor IgnoredLabels { get; }
        public Tensor BinaryTargets { get; }
        public Tensor StudentFeatures => _inputs.StudentFeatures;
        public Tensor TeacherFeatures => _inputs.TeacherFeatures;

        public void Dispose()
        {
            IgnoredLabels.Dispose();
            BinaryTargets.Dispose();
            _inputs.Dispose();
        }
    }
}
