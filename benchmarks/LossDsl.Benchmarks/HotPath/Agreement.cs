using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

/// <summary>
/// Checks that the implementations the hot path compares compute the same thing: on the
/// benchmark's terms and on the cases the generated Balance guards against (Kd cancelling to
/// rounding residue in each dtype, a scale beyond the dtype's range either way, a zero term),
/// the expert's four values must equal the generated loss's bit for bit, and the interpreter's
/// must be within a few units in the last place of the magnitudes they are computed from (it does
/// not fuse, so it rounds in other places: a cancelling Kd is exactly 0 there). The naive loss's
/// total is shown, not checked: it has neither guard.
/// Run with: dotnet run -c Release (project benchmarks/LossDsl.Benchmarks) -- agree
/// </summary>
public static class Agreement
{
    private static readonly (string Case, double Hard, double Soft, double Feature, ScalarType Dtype)[] Cases =
    {
        ("benchmark terms", 2.3, 0.8, 0.4, ScalarType.Float32),
        ("Kd cancels, float32", 2.3, 0.7, -0.4, ScalarType.Float32),
        // float32 values whose unfused Kd (the interpreter's) is residue too, not exactly 0.
        ("Kd cancels unfused too, float32", 2.3, 3.6102070808410645, -3.558846950531006, ScalarType.Float32),
        ("Kd cancels, float64", 2.3, 0.7, -0.4, ScalarType.Float64),
        ("Kd cancels, float16", 2.3, 0.7, -0.4, ScalarType.Float16),
        ("Kd cancels, bfloat16", 2.3, 0.7, -0.4, ScalarType.BFloat16),
        ("scale above float32's range", 2.3, 1e35, 1e-5, ScalarType.Float32),
        ("scale below float32's normals", 2.3, 1e-5, 1e35, ScalarType.Float32),
        ("Soft is 0", 2.3, 0.0, 0.4, ScalarType.Float32),
    };

    /// <summary>Writes one row per case and returns whether every case agreed.</summary>
    public static bool Run(StringBuilder report)
    {
        var generated = new GeneratedCombination { Alpha = HotPathInputs.Alpha };
        var interpreter = new InterpretedLoss(HotPathInputs.Formula);
        var numbers = new Dictionary<string, double> { ["Alpha"] = HotPathInputs.Alpha };
        bool all = true;
        report.Append("| case | FeatureScale | KdScale | Total | expert = generated | interpreted ≈ generated | naive's Total |\n");
        report.Append("| --- | ---: | ---: | ---: | --- | --- | ---: |\n");
        foreach (var (name, hardValue, softValue, featureValue, dtype) in Cases)
        {
            using var scope = NewDisposeScope();
            Tensor hard = tensor(hardValue, dtype), soft = tensor(softValue, dtype), feature = tensor(featureValue, dtype);
            var g = generated.Compute(hard, soft, feature);
            var x = ExpertDistillation.Combine(hard, soft, feature, HotPathInputs.Alpha);
            var i = interpreter.Evaluate(
                new Dictionary<string, Func<Tensor>> { ["hard"] = hard.alias, ["soft"] = soft.alias, ["feature"] = feature.alias },
                numbers);
            double[] want = { Host(g.FeatureScale), Host(g.KdScale), Host(g.Total), Host(g.Kd) };
            double[] expert = { Host(x.FeatureScale), Host(x.KdScale), Host(x.Total), Host(x.Kd) };
            // The naive loss reads its terms with item<float>(): float32 only.
            string naive = dtype == ScalarType.Float32 ? Host(NaiveDistillation.Combine(hard, soft, feature, HotPathInputs.Alpha)).ToString("R", CultureInfo.InvariantCulture) : "float32 only";
            double[] interpreted = { Host(i["feature_scale"]), Host(i["kd_scale"]), Host(i["Total"]), Host(i["Kd"]) };
            // The interpreter's differences are rounding: measured against the magnitudes each value
            // is computed from (a cancelling Kd is 0 there and residue in the fused addcmul).
            double[] scale = { want[0], want[1], Math.Abs(hardValue) + HotPathInputs.Alpha * Math.Abs(want[3]) * want[1], Math.Abs(softValue) + Math.Abs(featureValue) * want[0] };
            double tolerance = 4 * finfo(dtype).eps;
            bool expertAgrees = true, interpreterAgrees = true;
            for (int k = 0; k < want.Length; k++)
            {
                expertAgrees &= want[k].Equals(expert[k]);
                interpreterAgrees &= want[k].Equals(interpreted[k]) || Math.Abs(interpreted[k] - want[k]) <= tolerance * scale[k];
            }
            all &= expertAgrees && interpreterAgrees;
            report.Append(CultureInfo.InvariantCulture,
                $"| {name} | {want[0]:R} | {want[1]:R} | {want[2]:R} | {(expertAgrees ? "yes" : "NO: " + string.Join(", ", expert))} | {(interpreterAgrees ? "yes" : "NO: " + string.Join(", ", interpreted) + " vs " + string.Join(", ", want))} | {naive} |\n");
            g.Dispose();
            x.Dispose();
            foreach (Tensor value in i.Values)
            {
                value.Dispose();
            }
        }
        return GradientRules(report) && all;
    }

    private const int GradientSteps = 50;
    private const double GradientLearningRate = 1e-3;

    /// <summary>
    /// Balancing by gradients (issue 14): each rule generated and by hand over 50 training steps
    /// of its benchmark setting (plain SGD on the generated Total's gradients, so the terms, and
    /// GradNorm's loss ratios, change from step to step; each loss keeps its own state), every
    /// value of every step equal bit for bit, in the same dtype.
    /// </summary>
    private static bool GradientRules(StringBuilder report)
    {
        bool all = true;
        report.Append("\n| balancing by gradients | steps | expert = generated, bit for bit | the last step's values (generated) |\n");
        report.Append("| --- | ---: | --- | --- |\n");
        foreach (Gradients.GradientRule rule in Enum.GetValues<Gradients.GradientRule>())
        {
            using Gradients.GradientCase gradientCase = Gradients.GradientCase.Create(rule);
            string[] names = gradientCase.Names;
            string? mismatch = null;
            string last = "";
            for (int step = 0; step < GradientSteps; step++)
            {
                using var scope = NewDisposeScope();
                Tensor[] terms = gradientCase.Forward();
                var (generated, generatedValues) = gradientCase.Generated(terms);
                var (expert, expertValues) = gradientCase.Expert(terms);
                for (int k = 0; k < names.Length && mismatch is null; k++)
                {
                    double g = Host(generatedValues[k]), x = Host(expertValues[k]);
                    if (!g.Equals(x) || generatedValues[k].dtype != expertValues[k].dtype)
                    {
                        mismatch = $"{names[k]} at step {step}: generated {g:R} ({generatedValues[k].dtype}), expert {x:R} ({expertValues[k].dtype})";
                    }
                }
                last = string.Join(", ", names.Select((name, k) => string.Create(CultureInfo.InvariantCulture, $"{name} = {Host(generatedValues[k]):R}")));
                generatedValues[0].backward();
                using (no_grad())
                {
                    foreach (var parameter in gradientCase.Setting.Parameters)
                    {
                        if (parameter.grad is Tensor gradient)
                        {
                            parameter.sub_(gradient.mul(GradientLearningRate));
                        }
                    }
                }
                gradientCase.Setting.ZeroGrad();
                generated.Dispose();
                expert.Dispose();
            }
            all &= mismatch is null;
            report.Append(CultureInfo.InvariantCulture, $"| {rule} | {GradientSteps} | {(mismatch is null ? "yes" : "NO: " + mismatch)} | {last} |\n");
        }
        return all;
    }

    private static double Host(Tensor value) => value.to(ScalarType.Float64).item<double>();
}
