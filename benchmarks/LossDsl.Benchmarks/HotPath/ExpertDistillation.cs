using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

/// <summary>What the expert's loss returns: the loss, the KD part and both scales (the terms in the full regime).</summary>
public sealed class ExpertResult(Tensor total, Tensor kd, Tensor featureScale, Tensor kdScale, Tensor? hard = null, Tensor? soft = null, Tensor? feature = null) : IDisposable
{
    public Tensor Total { get; } = total;
    public Tensor Kd { get; } = kd;
    public Tensor FeatureScale { get; } = featureScale;
    public Tensor KdScale { get; } = kdScale;
    public Tensor? Hard { get; } = hard;
    public Tensor? Soft { get; } = soft;
    public Tensor? Feature { get; } = feature;

    public void Dispose()
    {
        Total.Dispose();
        Kd.Dispose();
        FeatureScale.Dispose();
        KdScale.Dispose();
        Hard?.Dispose();
        Soft?.Dispose();
        Feature?.Dispose();
    }
}

/// <summary>
/// PR 4220 by hand, as a careful TorchSharp engineer writes it. The terms are TorchSharp's fused
/// functionals (cross_entropy, kl_div on log-probabilities with a log target, cosine_similarity),
/// not LossDsl's Losses, so that the full regime compares the generated loss with what a user
/// without LossDsl would run. The scales are computed under
/// no_grad from magnitudes (no autograd graph, no extra detach handles), clamped into the dtype's
/// positive normal range and guarded on the device with in-place ops on a fresh ratio, the
/// balanced sums fused into addcmul, every intermediate in a dispose scope, and no host
/// synchronisation. Kd = Soft + Feature·scale can cancel (a negative Feature against a positive
/// Soft), so Kd's magnitude counts as 0 where it is rounding residue: at most a tolerance times
/// |Soft| + |Feature|·scale, the magnitudes it was computed from, reusing the magnitudes the first
/// scale already took. This is the bar: the semantics of the generated Balance, written without
/// LossDsl (its runtime helpers are for generated code), with the ops a hand-writer can share.
/// </summary>
public static class ExpertDistillation
{
    private const double Epsilon = 1e-8;

    public static ExpertResult Compute(Tensor studentLogits, Tensor teacherLogits, Tensor labels, Tensor studentFeatures, Tensor teacherFeatures, double alpha, double temperature)
    {
        using var scope = NewDisposeScope();
        Tensor hard = CrossEntropy(studentLogits, labels);
        Tensor soft = SoftTargetKl(studentLogits, teacherLogits, temperature);
        Tensor feature = CosineDistance(studentFeatures, teacherFeatures);
        var (total, kd, featureScale, kdScale) = Balance(hard, soft, feature, alpha);
        var result = new ExpertResult(total, kd, featureScale, kdScale, hard, soft, feature);
        scope.MoveToOuter(total, kd, featureScale);
        scope.MoveToOuter(kdScale, hard, soft);
        scope.MoveToOuter(feature);
        return result;
    }

    public static ExpertResult Combine(Tensor hard, Tensor soft, Tensor feature, double alpha)
    {
        using var scope = NewDisposeScope();
        var (total, kd, featureScale, kdScale) = Balance(hard, soft, feature, alpha);
        var result = new ExpertResult(total, kd, featureScale, kdScale);
        scope.MoveToOuter(total, kd, featureScale);
        scope.MoveToOuter(kdScale);
        return result;
    }

    /// <summary>Cross-entropy averaged over positions: the fused op, positions as rows (it wants the classes in dimension 1).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels)
        => nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1));

    /// <summary>
    /// KL(teacher_T ‖ student_T) × T², averaged over positions, as Losses.SoftTargetKl defines it:
    /// kl_div on log-probabilities with a log target, summed and divided by the positions (PyTorch's
    /// reduction "batchmean" over position rows, which TorchSharp's kl_div does not offer).
    /// </summary>
    public static Tensor SoftTargetKl(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        long classes = studentLogits.shape[^1];
        Tensor studentLogProbs = nn.functional.log_softmax(studentLogits.reshape(-1, classes) / temperature, -1);
        Tensor teacherLogProbs = nn.functional.log_softmax(teacherLogits.detach().reshape(-1, classes) / temperature, -1);
        Tensor divergence = nn.functional.kl_div(studentLogProbs, teacherLogProbs, log_target: true, reduction: nn.Reduction.Sum);
        return divergence * (temperature * temperature / studentLogProbs.shape[0]);
    }

    /// <summary>The mean over positions of 1 − cos(a, b) along the last dimension, eps 1e-8 (as Losses.CosineDistance).</summary>
    public static Tensor CosineDistance(Tensor a, Tensor b)
        => 1 - nn.functional.cosine_similarity(a, b, dim: -1, eps: 1e-8).mean();

    private static (Tensor Total, Tensor Kd, Tensor FeatureScale, Tensor KdScale) Balance(Tensor hard, Tensor soft, Tensor feature, double alpha)
    {
        Tensor featureMagnitude, softMagnitude, featureScale;
        using (no_grad())
        {
            featureMagnitude = feature.abs();
            softMagnitude = soft.abs();
            featureScale = Scale(featureMagnitude, softMagnitude);
        }
        Tensor kd = soft.addcmul(feature, featureScale, 1.0);
        Tensor kdScale;
        using (no_grad())
        {
            // Where Kd cancelled, what is left is rounding residue of |Soft| + |Feature|·scale: count it as 0.
            Tensor kdMagnitude = kd.abs();
            Tensor threshold = softMagnitude.addcmul(featureMagnitude, featureScale, 1.0).mul_(Tolerance(kd.dtype));
            kdMagnitude.masked_fill_(kdMagnitude.le(threshold), 0.0);
            kdScale = Scale(kdMagnitude, hard.abs());
        }
        Tensor total = hard.addcmul(kd, kdScale, alpha);
        return (total, kd, featureScale, kdScale);
    }

    /// <summary>
    /// b / a, the scale from the magnitudes a = |x| and b = |y|, kept within the dtype's positive
    /// normal numbers (never 0 by underflow, never infinite), or 1 where either is at most eps.
    /// </summary>
    private static Tensor Scale(Tensor a, Tensor b)
    {
        var range = finfo(a.dtype);
        return b.div(a).clamp_(range.tiny, range.max).masked_fill_(a.minimum(b).le(Epsilon), 1.0);
    }

    /// <summary>Residue tolerance relative to the bound: 1e-5 in float32 and float64, 8 units in the last place in float16 and bfloat16.</summary>
    private static double Tolerance(ScalarType dtype)
        => dtype is ScalarType.Float16 or ScalarType.BFloat16 ? 8 * finfo(dtype).eps : 1e-5;
}
