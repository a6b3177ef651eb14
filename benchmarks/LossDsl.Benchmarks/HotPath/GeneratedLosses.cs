using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

// The "generated" implementation of the full regime is the README's DistillationLoss itself
// (tests/Shared/DistillationLoss.cs, linked into this project).

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
