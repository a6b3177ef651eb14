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
/// PR 4220 by hand, as a careful TorchSharp engineer writes it: the scales are computed under
/// no_grad from magnitudes (no autograd graph, no extra detach handles), guarded on the device
/// with an in-place masked_fill on a fresh ratio, the balanced sums fused into addcmul, every
/// intermediate in a dispose scope, and no host synchronisation. This is the bar.
/// </summary>
public static class ExpertDistillation
{
    private const double Epsilon = 1e-8;

    public static ExpertResult Compute(Tensor studentLogits, Tensor teacherLogits, Tensor labels, Tensor studentFeatures, Tensor teacherFeatures, double alpha, double temperature)
    {
        using var scope = NewDisposeScope();
        Tensor hard = Losses.CrossEntropy(studentLogits, labels);
        Tensor soft = Losses.SoftTargetKl(studentLogits, teacherLogits, temperature);
        Tensor feature = Losses.CosineDistance(studentFeatures, teacherFeatures);
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

    private static (Tensor Total, Tensor Kd, Tensor FeatureScale, Tensor KdScale) Balance(Tensor hard, Tensor soft, Tensor feature, double alpha)
    {
        Tensor featureScale = Scale(feature, soft);
        Tensor kd = soft.addcmul(feature, featureScale, 1.0);
        Tensor kdScale = Scale(kd, hard);
        Tensor total = hard.addcmul(kd, kdScale, alpha);
        return (total, kd, featureScale, kdScale);
    }

    /// <summary>|y| / |x|, or 1 where either is at most eps; no gradient.</summary>
    private static Tensor Scale(Tensor x, Tensor y)
    {
        using var noGrad = no_grad();
        Tensor a = x.abs(), b = y.abs();
        return b.div(a).masked_fill_(a.minimum(b).le(Epsilon), 1.0);
    }
}
