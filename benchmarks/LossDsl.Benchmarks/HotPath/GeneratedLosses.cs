using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

/// <summary>The README's distillation loss, as a user writes it: the "generated" implementation of the full regime.</summary>
public partial class GeneratedDistillation
{
    public double Alpha { get; set; } = 0.5;
    public double Temperature { get; set; } = 2.0;

    [Term] Tensor Hard(Tensor studentLogits, Tensor labels) => Losses.CrossEntropy(studentLogits, labels);

    [Term] Tensor Soft(Tensor studentLogits, Tensor teacherLogits) => Losses.SoftTargetKl(studentLogits, teacherLogits, Temperature);

    [Term] Tensor Feature(Tensor studentFeatures, Tensor teacherFeatures) => Losses.CosineDistance(studentFeatures, teacherFeatures);

    [Loss("""
        Kd    = Soft + Balance(Feature, to: Soft)
        Total = Hard + Alpha * Balance(Kd, to: Hard)
        """)]
    public partial GeneratedDistillationResult Compute(
        Tensor studentLogits, Tensor teacherLogits, Tensor labels,
        Tensor studentFeatures, Tensor teacherFeatures);
}

/// <summary>The same formula over terms the caller computed: the combination-only regime.</summary>
public partial class GeneratedCombination
{
    public double Alpha { get; set; } = 0.5;

    [Loss("""
        Kd    = soft + Balance(feature, to: soft)
        Total = hard + Alpha * Balance(Kd, to: hard)
        """)]
    public partial GeneratedCombinationResult Compute(Tensor hard, Tensor soft, Tensor feature);
}
