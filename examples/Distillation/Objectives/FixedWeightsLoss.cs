using LossDsl;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillation.Objectives;

/// <summary>
/// Fixed weights, as MaxText's distillation trunk combines its losses:
/// alpha·soft + (1 − alpha)·hard + beta·feature. Same terms as <see cref="DynamicBalancingLoss"/>.
/// </summary>
public partial class FixedWeightsLoss
{
    public double Alpha { get; set; } = 0.5;
    public double Temperature { get; set; } = 2.0;

    /// <summary>Multiplies the feature loss, standing in for a feature loss of another magnitude (e.g. an unnormalised MSE).</summary>
    public double FeatureScale { get; set; } = 1.0;
    public double Beta { get; set; } = 1.0;

    [Term] Tensor HardLoss(Tensor studentLogits, Tensor labels)
        => Losses.CrossEntropy(studentLogits, labels);

    [Term] Tensor SoftLoss(Tensor studentLogits, Tensor teacherLogits)
        => Losses.SoftTargetKl(studentLogits, teacherLogits, Temperature);

    [Term] Tensor OutProjFeatureLoss(Tensor studentFeatures, Tensor teacherFeatures)
        => FeatureScale * Losses.CosineDistance(studentFeatures, teacherFeatures);

    [Loss("TotalLoss = Alpha * SoftLoss + (1 - Alpha) * HardLoss + Beta * OutProjFeatureLoss", MetricsPrefix = "distill/")]
    public partial FixedWeightsResult Compute(
        Tensor studentLogits, Tensor teacherLogits, Tensor labels,
        Tensor studentFeatures, Tensor teacherFeatures);
}
