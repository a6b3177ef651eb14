using System.Collections.Generic;
using System.Globalization;
using System.Text;
using LossDsl.Benchmarks.HotPath;
using LossDsl.Testing;

namespace LossDsl.Benchmarks.Eager;

/// <summary>
/// The full regime (logits 8 × 128 × 4096, features 4 × 8 × 128 × 512, float32) three ways: the
/// README's distillation loss as generated (<c>tests/Shared/DistillationLoss.cs</c>), the expert
/// by hand with TorchSharp's fused functionals (<see cref="ExpertDistillation"/>), and the same
/// loss in PyTorch eager (<c>benchmarks/pytorch/eager_time.py</c>, case "distillation"); forward,
/// and forward with <c>backward()</c> to the student's logits and features.
/// Run with: dotnet run -c Release (project benchmarks/LossDsl.Benchmarks) -- eager
/// </summary>
public static class FullRegimeBenchmark
{
    /// <summary>Defaults that keep the command to a few minutes on this machine.</summary>
    public static readonly EagerRun.Options Defaults = new(new RoundPlan(Warmup: 3, Rounds: 21, Iterations: 5), Threads: 2);

    /// <summary>Measures both passes and returns the report: a header and a markdown table.</summary>
    public static string Run(EagerRun.Options options)
    {
        var report = new StringBuilder();
        using PyTorchEager? pytorch = EagerRun.Start("eager", options, report);
        using var inputs = HotPathInputs.Realistic();
        var generated = new DistillationLoss { Alpha = HotPathInputs.Alpha, Temperature = HotPathInputs.Temperature };
        report.Append("| pass | generated (ms) | expert (ms) | PyTorch eager (ms) | generated / PyTorch | expert / PyTorch | generated / expert |\n");
        report.Append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        foreach (bool backward in new[] { false, true })
        {
            var contenders = new List<Contender>
            {
                EagerRun.Timed("generated", () => generated.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, inputs.StudentFeatures, inputs.TeacherFeatures).Total,
                    backward, inputs.StudentLogits, inputs.StudentFeatures),
                EagerRun.Timed("expert", () => ExpertDistillation.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, inputs.StudentFeatures, inputs.TeacherFeatures, HotPathInputs.Alpha, HotPathInputs.Temperature).Total,
                    backward, inputs.StudentLogits, inputs.StudentFeatures),
            };
            if (EagerRun.Timed("PyTorch", pytorch, "distillation", backward) is Contender eager)
            {
                contenders.Add(eager);
            }
            var rounds = InterleavedRounds.Measure(contenders, options.Plan);
            report.Append(CultureInfo.InvariantCulture,
                $"| {(backward ? "forward+backward" : "forward")} | {rounds.Milliseconds("generated")} | {rounds.Milliseconds("expert")} | {(pytorch is null ? "not measured" : rounds.Milliseconds("PyTorch"))} | {(pytorch is null ? "–" : rounds.RatioCell("generated", "PyTorch"))} | {(pytorch is null ? "–" : rounds.RatioCell("expert", "PyTorch"))} | {rounds.RatioCell("generated", "expert")} |\n");
        }
        report.Append(CultureInfo.InvariantCulture, $"\nLoad average at the end (1 / 5 / 15 min): {Machine.LoadAverage()}\n");
        return report.ToString();
    }
}
