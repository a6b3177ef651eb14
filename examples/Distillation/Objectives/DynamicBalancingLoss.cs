using LossDsl;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillation.Objectives;

/// <summary>
/// Dynamic loss balancing for distillation, as in MaxText PR 4220 (the README's opening example): the
/// feature loss is scaled to the soft loss, and their sum to the hard loss, through scales built
/// from detached values. Terms are named after MaxText's metrics, so the metric keys are
/// distill/soft_loss, distill/hard_loss, distill/out_proj_feature_loss and distill/total_loss.
/// </summary>
public partial class DynamicBalancingLoss
{
    public double Alpha { get; set; } = 0.5;
    public double Temperature { get; set; } = 2.0;

    /// <summary>Multiplies the feature loss, standing in for a feature loss of another magnitude (e.g. an unnormalised MSE).</summary>
    public double FeatureScale { get; set; } = 1.0;

    [Term] Tensor HardLoss(Tensor studentLogits, Tensor labels)
        => Losses.CrossEntropy(studentLogits, labels);

    [Term] Tensor SoftLoss(Tensor studentLogits, Tensor teacherLogits)
        => Losses.SoftTargetKl(studentLogits, teacherLogits, Temperature);

    [Term] Tensor OutProjFeatureLoss(Tensor studentFeatures, Tensor teacherFeatures)
        => FeatureScale * Losses.CosineDistance(studentFeatures, teacherFeatures);

    [Loss("""
        KdLoss    = SoftLoss + Balance(OutProjFeatureLoss, to: SoftLoss)
        TotalLoss = HardLoss + Alpha * Balance(KdLoss, to: HardLoss)
        """, MetricsPrefix = "distill/")]
    public partial DynamicBalancingResult Compute(
        Tensor studentLogits, Tensor teacherLogits, Tensor labels,
        Tensor studentFeatures, Tensor teacherFeatures);

    /// <summary>
    /// The same balancing with scales from bias-corrected moving averages of the magnitudes
    /// (--strategy ema): smoother scales, kept in <see cref="ComputeEmaState"/>.
    /// </summary>
    [Loss("""
        KdLoss    = SoftLoss + Balance(OutProjFeatureLoss, to: SoftLoss, ema: 0.9)
        TotalLoss = HardLoss + Alpha * Balance(KdLoss, to: HardLoss, ema: 0.9)
        """, MetricsPrefix = "distill/")]
    public partial DynamicBalancingEmaResult ComputeEma(
        Tensor studentLogits, Tensor teacherLogits, Tensor labels,
        Tensor studentFeatures, Tensor teacherFeatures);
}
