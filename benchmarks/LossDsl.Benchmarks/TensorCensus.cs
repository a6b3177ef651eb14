using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using LossDsl.Benchmarks.Gradients;
using LossDsl.Benchmarks.HotPath;
using LossDsl.Testing;
using TorchSharp;

namespace LossDsl.Benchmarks;

/// <summary>
/// Counts native tensors, which BenchmarkDotNet does not: how many each implementation creates
/// per call, and how many are still alive after 10,000 calls whose results were disposed.
/// Run with: dotnet run -c Release (project benchmarks/LossDsl.Benchmarks) -- census
/// </summary>
public static class TensorCensus
{
    private const int Calls = 10_000;

    public static string Run()
    {
        var table = new StringBuilder();
        table.Append("| regime | implementation | tensors created per call | alive after 10,000 calls | alive after 10,000 calls and a full GC |\n");
        table.Append("| --- | --- | ---: | ---: | ---: |\n");
        foreach (Regime regime in new[] { Regime.Combination, Regime.Full })
        {
            // Tiny inputs: the counts do not depend on sizes, and 10,000 full calls stay quick.
            using var inputs = HotPathInputs.Tiny();
            var implementations = new Implementations(inputs);
            var candidates = new List<(string, Func<Regime, IDisposable>)>
            {
                ("expert", implementations.Expert),
                ("generated", implementations.Generated),
                ("naive", implementations.Naive),
                ("interpreted", implementations.Interpreted),
            };
            foreach (var (name, call) in candidates)
            {
                for (int i = 0; i < 10; i++)
                {
                    call(regime).Dispose();
                }
                long created = Created();
                call(regime).Dispose();
                long perCall = Created() - created;

                long live = LiveTensors.Count;
                long alive = LiveTensors.AddedBy(Calls, () => call(regime));
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                long aliveAfterGc = LiveTensors.Count - live;
                table.Append(CultureInfo.InvariantCulture, $"| {regime} | {name} | {perCall} | {alive:N0} | {aliveAfterGc:N0} |\n");
            }
        }
        table.Append('\n');
        table.Append(Layerwise());
        table.Append('\n');
        table.Append(GradientRules());
        return table.ToString();
    }

    /// <summary>
    /// The per-layer worked example of docs/language.md (two of three layers distilled), generated
    /// and by hand (ExpertLayerwise), with its feature losses switched on and off.
    /// </summary>
    private static string Layerwise()
    {
        var table = new StringBuilder();
        table.Append("| worked example | implementation | tensors created per call | alive after 10,000 calls | alive after 10,000 calls and a full GC |\n");
        table.Append("| --- | --- | ---: | ---: | ---: |\n");
        using var inputs = HotPathInputs.Tiny();
        var generator = new torch.Generator(3);
        torch.Tensor[] studentHidden = Enumerable.Range(0, 3).Select(_ => torch.randn(inputs.StudentFeatures.shape, generator: generator)).ToArray();
        torch.Tensor[] teacherHidden = Enumerable.Range(0, 3).Select(_ => torch.randn(inputs.StudentFeatures.shape, generator: generator)).ToArray();
        foreach (bool useFeatures in new[] { true, false })
        {
            var generated = new LossDsl.Tests.Fixtures.LayerwiseDistillationLoss { UseFeatures = useFeatures };
            // The state (its step) lives with the loss, not with a call; evaluation mode, as the
            // census never advances the step (in training mode the state would warn that it is frozen).
            generated.ComputeState.eval();
            var candidates = new List<(string, Func<IDisposable>)>
            {
                ("expert", () => ExpertLayerwise.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, studentHidden, teacherHidden,
                    generated.DistilledLayers, useFeatures, generated.ComputeState.Step, generated.TotalSteps)),
                ("generated", () => generated.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, studentHidden, teacherHidden)),
            };
            foreach (var (name, call) in candidates)
            {
                Count(table, useFeatures ? "features on" : "features off", name, call);
            }
        }
        foreach (torch.Tensor t in studentHidden.Concat(teacherHidden))
        {
            t.Dispose();
        }
        return table.ToString();
    }

    /// <summary>
    /// Balancing by gradients (issue 14): the loss call of each rule, generated and by hand
    /// (Gradients/ExpertGradientLosses.cs), on one forward of a tiny setting of the rule, whose
    /// graph every call takes its gradients on (retain_graph), the rule's state updating at every call.
    /// </summary>
    /// <summary>Only the balancing-by-gradients table (<c>census gradients</c>): a quick check of its counts.</summary>
    public static string RunGradients() => GradientRules();

    private static string GradientRules()
    {
        var table = new StringBuilder();
        table.Append("| balancing by gradients | implementation | tensors created per call | alive after 10,000 calls | alive after 10,000 calls and a full GC |\n");
        table.Append("| --- | --- | ---: | ---: | ---: |\n");
        foreach (GradientRule rule in Enum.GetValues<GradientRule>())
        {
            using GradientCase gradientCase = GradientCase.Create(rule, tiny: true);
            using (torch.NewDisposeScope())
            {
                torch.Tensor[] terms = gradientCase.Forward();
                Count(table, rule.ToString(), "expert", () => gradientCase.Expert(terms).Result);
                Count(table, rule.ToString(), "generated", () => gradientCase.Generated(terms).Result);
            }
        }
        return table.ToString();
    }

    private static void Count(StringBuilder table, string regime, string name, Func<IDisposable> call)
    {
        for (int i = 0; i < 10; i++)
        {
            call().Dispose();
        }
        long created = Created();
        call().Dispose();
        long perCall = Created() - created;

        long live = LiveTensors.Count;
        long alive = LiveTensors.AddedBy(Calls, call);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long aliveAfterGc = LiveTensors.Count - live;
        table.Append(CultureInfo.InvariantCulture, $"| {regime} | {name} | {perCall} | {alive:N0} | {aliveAfterGc:N0} |\n");
    }

    private static long Created()
        => DisposeScopeManager.Statistics.CreatedInScopeCount + DisposeScopeManager.Statistics.CreatedOutsideScopeCount;
}
