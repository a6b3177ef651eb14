using LossDsl;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Testing;

/// <summary>
/// The README's opening example, verbatim: dynamic loss balancing for distillation (MaxText PR
/// 4220). The one copy of it: the runtime tests and the hot-path benchmarks compile this file
/// (linked), the generator tests and the generator benchmarks read it as text (embedded, see
/// DistillationLossSource.cs), and the README's first C# block must be a run of its lines.
/// </summary>
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
        """)]
    public partial DistillationLossResult Compute(
        Tensor studentLogits, Tensor teacherLogits, Tensor labels,
        Tensor studentFeatures, Tensor teacherFeatures);
}
