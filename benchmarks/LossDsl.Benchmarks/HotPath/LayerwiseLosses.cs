using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

// The generated implementation is the worked example itself, LossDsl.Tests.Fixtures.LayerwiseDistillationLoss
// (tests/LossDsl.Tests/Fixtures/LayerwiseDistillation.cs, linked into this project).

/// <summary>What the hand-written per-layer loss returns: every value the generated result logs.</summary>
public sealed class ExpertLayerwiseResult(Tensor total, Tensor[] layers, Tensor soft, Tensor hard, Tensor features, Tensor kd, Tensor scales, double alpha) : IDisposable
{
    public Tensor Total { get; } = total;
    public Tensor[] Layers { get; } = layers;
    public Tensor Soft { get; } = soft;
    public Tensor Hard { get; } = hard;
    public Tensor Features { get; } = features;
    public Tensor Kd { get; } = kd;

    /// <summary>One scale per layer, as one 1-dim tensor: the logger indexes it.</summary>
    public Tensor Scales { get; } = scales;
    public double Alpha { get; } = alpha;

    public void Dispose()
    {
        Total.Dispose();
        foreach (Tensor layer in Layers) layer.Dispose();
        Soft.Dispose();
        Hard.Dispose();
        Features.Dispose();
        Kd.Dispose();
        Scales.Dispose();
    }
}

/// <summary>
/// The same loss by hand, as a careful TorchSharp engineer writes it: the schedule on the host, the
/// layers stacked once so that all their scales are one computation under no_grad, guarded on the
/// device, the feature losses not computed at all when switched off, every intermediate in a
/// dispose scope, no host synchronisation.
/// </summary>
public static class ExpertLayerwise
{
    private const double Epsilon = 1e-8;

    public static ExpertLayerwiseResult Compute(Tensor studentLogits, Tensor teacherLogits, Tensor labels, IReadOnlyList<Tensor> studentHidden, IReadOnlyList<Tensor> teacherHidden,
        int[] distilledLayers, bool useFeatures, long step, int totalSteps)
    {
        using var scope = NewDisposeScope();
        double progress = Math.Clamp((double)step / totalSteps, 0, 1);
        double alpha = 0.1 + (0.9 - 0.1) * 0.5 * (1 + Math.Cos(Math.PI * progress));
        Tensor[] layers;
        Tensor stacked;
        if (useFeatures)
        {
            layers = distilledLayers.Select(l => Losses.CosineDistance(studentHidden[l], teacherHidden[l])).ToArray();
            stacked = stack(layers);
        }
        else
        {
            Tensor zero = zeros(Array.Empty<long>(), ScalarType.Float32, studentLogits.device);
            layers = new[] { zero };
            stacked = zero.unsqueeze(0);
        }
        Tensor soft = Losses.SoftTargetKl(studentLogits, teacherLogits, 2.0);
        Tensor scales;
        using (no_grad())
        {
            Tensor layerMagnitudes = stacked.abs(), softMagnitude = soft.abs();
            var range = finfo(layerMagnitudes.dtype);
            scales = softMagnitude.div(layerMagnitudes).clamp_(range.tiny, range.max).masked_fill_(layerMagnitudes.minimum(softMagnitude).le(Epsilon), 1.0);
        }
        Tensor features = stacked.mul(scales).sum();
        Tensor kd = soft.add(features);
        Tensor hard = Losses.CrossEntropy(studentLogits, labels);
        Tensor total = hard.mul(1 - alpha).add(kd, alpha);
        var result = new ExpertLayerwiseResult(total, layers, soft, hard, features, kd, scales, alpha);
        scope.MoveToOuter(total, soft, hard);
        scope.MoveToOuter(features, kd, scales);
        scope.MoveToOuter(layers);
        return result;
    }
}
