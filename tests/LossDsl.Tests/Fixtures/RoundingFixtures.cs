using LossDsl;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

/// <summary>
/// The PR 4220 formula with moving-average scales over losses the caller computed, for the
/// cancellation cases of <c>BalanceRoundingTests</c>.
/// </summary>
public partial class GivenTermsEmaDistillation
{
    public double Alpha { get; set; } = 0.5;

    [Loss("""
        Kd    = soft + Balance(feature, to: soft, ema: 0.9)
        Total = hard + Alpha * Balance(Kd, to: hard, ema: 0.9)
        """)]
    public partial GivenTermsEmaDistillationResult Compute(Tensor hard, Tensor soft, Tensor feature);
}

/// <summary>Cancellation carried through a number and through a weighting: the bounds follow both.</summary>
public partial class CancellingCombinations
{
    [Loss("""
        Kd    = a + Balance(b, to: a)
        Total = c + Balance(3 * Kd, to: c) + Balance(Dwa(Kd, d), to: c)
        """)]
    public partial CancellingCombinationsResult Compute(Tensor a, Tensor b, Tensor c, Tensor d);

    /// <summary>A plain difference, which is balanced whenever it is more than residue.</summary>
    [Loss("Total = c + Balance(a - b, to: c)")]
    public partial DifferenceResult Difference(Tensor a, Tensor b, Tensor c);
}
