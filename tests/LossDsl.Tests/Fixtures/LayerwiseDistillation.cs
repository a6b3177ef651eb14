using System.Collections.Generic;
using System.Linq;
using LossDsl;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

/// <summary>
/// The worked example of docs/language.md ("Worked example: per-layer distillation"): alpha on a
/// cosine schedule whose length is a property, one feature loss per distilled layer, each balanced
/// to the soft loss and logged per layer, and a switch for the feature losses.
/// </summary>
public partial class LayerwiseDistillationLoss
{
    /// <summary>The run's length in optimizer steps: alpha's schedule spans it.</summary>
    public int TotalSteps { get; set; } = 10_000;

    /// <summary>The layers whose hidden states are distilled (MaxText's --layers 1,2).</summary>
    public int[] DistilledLayers { get; set; } = { 1, 2 };

    /// <summary>Whether the per-layer feature losses take part; when false, they are not computed.</summary>
    public bool UseFeatures { get; set; } = true;

    [Term] Tensor Hard(Tensor studentLogits, Tensor labels)
        => Losses.CrossEntropy(studentLogits, labels);

    [Term] Tensor Soft(Tensor studentLogits, Tensor teacherLogits, double temperature = 2.0)
        => Losses.SoftTargetKl(studentLogits, teacherLogits, temperature);

    // One loss per distilled layer, named after it: metric keys distill/layers/layer1, ….
    [Term] IReadOnlyList<(string Name, Tensor Value)> Layers(IReadOnlyList<Tensor> studentHidden, IReadOnlyList<Tensor> teacherHidden)
        => DistilledLayers.Select(l => ($"layer{l}", Losses.CosineDistance(studentHidden[l], teacherHidden[l]))).ToList();

    [Loss("""
        Alpha    = Cosine(0.9, 0.1, TotalSteps)
        Features = Sum(Balance(If(UseFeatures, Layers), to: Soft))
        Kd       = Soft + Features
        Total    = (1 - Alpha) * Hard + Alpha * Kd
        """, MetricsPrefix = "distill/")]
    public partial LayerwiseDistillationResult Compute(
        Tensor studentLogits, Tensor teacherLogits, Tensor labels,
        IReadOnlyList<Tensor> studentHidden, IReadOnlyList<Tensor> teacherHidden);
}
