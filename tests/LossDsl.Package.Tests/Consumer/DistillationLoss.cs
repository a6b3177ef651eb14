using LossDsl;
using TorchSharp;
using static TorchSharp.torch;

namespace Consumer;

// A copy of tests/Shared/DistillationLoss.cs plus the README Quickstart's MetricsPrefix: built alone from the package, this user project cannot link repository files.
public partial class DistillationLoss
{
    public double Alpha { get; set; } = 0.5;          // hyperparameters: numeric members, read on every call
    public double Temperature { get; set; } = 2.0;

    [Term] Tensor Hard(Tensor studentLogits, Tensor labels)
        => Losses.CrossEntropy(studentLogits, labels);

    [Term] Tensor Soft(Tensor studentLogits, Tensor teacherLogits)
        => Losses.SoftTargetKl(studentLogits, teacherLogits, Temperature);

    [Term] Tensor Feature(Tensor studentFeatures, Tensor teacherFeatures)
        => Losses.CosineDistance(studentFeatures, teacherFeatures);

    [Loss("""
        Kd    = Soft + Balance(Feature, to: Soft)
        Total = Hard + Alpha * Balance(Kd, to: Hard)
        """, MetricsPrefix = "distill/")]
    public partial DistillationLossResult Compute(
        Tensor studentLogits, Tensor teacherLogits, Tensor labels,
        Tensor studentFeatures, Tensor teacherFeatures);
}
