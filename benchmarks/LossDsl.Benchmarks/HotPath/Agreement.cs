using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using LossDsl.Testing;
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
/// total is shown, not checked: it has neither guard. In the full regime, where the expert's terms
/// are TorchSharp's fused functionals rather than Losses, its values and gradients must be within a
/// tolerance of the generated loss's (<see cref="FullRegimeUlps"/>).
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
        all &= FullRegime(report);
        return GradientRules(report) && all;
    }

    /// <summary>
    /// Relative tolerance of the full regime, in units of float32's epsilon (16 eps ≈ 1.9e-6): the
    /// expert's terms are TorchSharp's fused functionals and LossDsl's are its own ops, which round
    /// in other places (2 eps at most when this was written, against today's Losses).
    /// </summary>
    private const double FullRegimeUlps = 16;

    /// <summary>
    /// The full regime on the benchmark's inputs (logits 8 × 128 × 4096, features 4 × 8 × 128 × 512):
    /// every value of the expert within <see cref="FullRegimeUlps"/> units of float32's epsilon of
    /// the generated loss's, relative to the magnitudes it is computed from, and the gradients of
    /// Total with respect to the student's logits and features within as much of their largest
    /// element.
    /// </summary>
    private static bool FullRegime(StringBuilder report)
    {
        using var scope = NewDisposeScope();
        using var inputs = HotPathInputs.Realistic();
        var loss = new DistillationLoss { Alpha = HotPathInputs.Alpha, Temperature = HotPathInputs.Temperature };
        var g = loss.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, inputs.StudentFeatures, inputs.TeacherFeatures);
        var (generatedLogitsGradient, generatedFeaturesGradient) = StudentGradients(g.Total, inputs);
        var x = ExpertDistillation.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, inputs.StudentFeatures, inputs.TeacherFeatures, HotPathInputs.Alpha, HotPathInputs.Temperature);
        var (expertLogitsGradient, expertFeaturesGradient) = StudentGradients(x.Total, inputs);

        double hard = Host(g.Hard), soft = Host(g.Soft), feature = Host(g.Feature), kd = Host(g.Kd), featureScale = Host(g.FeatureScale), kdScale = Host(g.KdScale);
        var values = new (string Name, double Generated, double Expert, double Magnitude)[]
        {
            ("Hard", hard, Host(x.Hard!), Math.Abs(hard)),
            ("Soft", soft, Host(x.Soft!), Math.Abs(soft)),
            ("Feature", feature, Host(x.Feature!), Math.Abs(feature)),
            ("FeatureScale", featureScale, Host(x.FeatureScale), featureScale),
            ("Kd", kd, Host(x.Kd), Math.Abs(soft) + Math.Abs(feature) * featureScale),
            ("KdScale", kdScale, Host(x.KdScale), kdScale),
            ("Total", Host(g.Total), Host(x.Total), Math.Abs(hard) + HotPathInputs.Alpha * Math.Abs(kd) * kdScale),
        };
        var gradients = new (string Name, Tensor Generated, Tensor Expert)[]
        {
            ("∂Total/∂studentLogits", generatedLogitsGradient, expertLogitsGradient),
            ("∂Total/∂studentFeatures", generatedFeaturesGradient, expertFeaturesGradient),
        };
        double epsilon = finfo(ScalarType.Float32).eps;
        bool all = true;
        report.Append(CultureInfo.InvariantCulture,
            $"\n| full regime: expert (fused functionals) against generated | generated | expert | difference / magnitude, in float32 eps (at most {FullRegimeUlps}) | agrees |\n");
        report.Append("| --- | ---: | ---: | ---: | --- |\n");
        foreach (var (name, generated, expert, magnitude) in values)
        {
            double ulps = Math.Abs(expert - generated) / (magnitude * epsilon);
            all &= ulps <= FullRegimeUlps;
            report.Append(CultureInfo.InvariantCulture, $"| {name} | {generated:R} | {expert:R} | {ulps:F1} | {(ulps <= FullRegimeUlps ? "yes" : "NO")} |\n");
        }
        foreach (var (name, generated, expert) in gradients)
        {
            // Element by element, against the gradient's largest element.
            double largest = Host(generated.abs().max()), difference = Host(generated.sub(expert).abs().max());
            double ulps = difference / (largest * epsilon);
            all &= ulps <= FullRegimeUlps;
            report.Append(CultureInfo.InvariantCulture,
                $"| {name} | largest element {largest:G6} | largest difference {difference:G3} | {ulps:F1} | {(ulps <= FullRegimeUlps ? "yes" : "NO")} |\n");
        }
        g.Dispose();
        x.Dispose();
        return all;
    }

    /// <summary>The gradients of <paramref name="total"/> with respect to the student's logits and features, without touching their .grad.</summary>
    private static (Tensor Logits, Tensor Features) StudentGradients(Tensor total, HotPathInputs inputs)
    {
        var gradients = torch.autograd.grad(new[] { total }, new[] { inputs.StudentLogits, inputs.StudentFeatures });
        return (gradients[0], gradients[1]);
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
