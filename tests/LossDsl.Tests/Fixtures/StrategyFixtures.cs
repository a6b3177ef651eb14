using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

// Stateful strategies over terms the caller computed (Tensor parameters), so that tests can drive
// them with chosen values and compare with a computation by hand.

public partial class EmaBalanceLoss
{
    [Loss("Total = hard + Balance(soft, to: hard, ema: 0.9)")]
    public partial EmaBalanceResult Compute(Tensor hard, Tensor soft);
}

/// <summary>The same layout as <see cref="EmaBalanceLoss"/>, with another eps: checkpoints load across.</summary>
public partial class EmaBalanceLossOtherEps
{
    [Loss("Total = hard + Balance(soft, to: hard, ema: 0.9, eps: 1e-6)")]
    public partial EmaBalanceOtherEpsResult Compute(Tensor hard, Tensor soft);
}

/// <summary>The layout of <see cref="DwaLoss"/> with a shorter window.</summary>
public partial class DwaShortWindowLoss
{
    [Loss("Total = Dwa(hard, soft, feature, temperature: 2, window: 2)")]
    public partial Tensor Compute(Tensor hard, Tensor soft, Tensor feature);
}

public partial class DwaTwoLoss
{
    [Loss("Total = Dwa(a, b)")]
    public partial Tensor Compute(Tensor a, Tensor b);
}

public partial class DwaThreeLoss
{
    [Loss("Total = Dwa(a, b, c)")]
    public partial Tensor Compute(Tensor a, Tensor b, Tensor c);
}

public partial class UncertaintyLoss
{
    [Loss("Total = Uncertainty(hard, soft, feature)")]
    public partial UncertaintyResult Compute(Tensor hard, Tensor soft, Tensor feature);
}

public partial class DwaLoss
{
    [Loss("Total = Dwa(hard, soft, feature, temperature: 2, window: 3)")]
    public partial DwaResult Compute(Tensor hard, Tensor soft, Tensor feature);
}

public partial class CovLoss
{
    [Loss("Total = CoV(hard, soft, feature)")]
    public partial CovResult Compute(Tensor hard, Tensor soft, Tensor feature);
}

public partial class ScheduledLoss
{
    [Loss("Total = hard + Linear(0.1, 0.9, 100) * soft + Cosine(1, 0, 50) * feature")]
    public partial ScheduledResult Compute(Tensor hard, Tensor soft, Tensor feature);
}

/// <summary>Every kind of state at once, for checkpoints.</summary>
public partial class AllStrategiesLoss
{
    [Loss("""
        A     = Balance(soft, to: hard, ema: 0.8)
        B     = Dwa(hard, soft, temperature: 1.5, window: 2)
        C     = CoV(hard, feature)
        U     = Uncertainty(hard, soft, feature)
        Total = A + B + C + Linear(1, 0.5, 40) * U
        """)]
    public partial AllStrategiesResult Compute(Tensor hard, Tensor soft, Tensor feature);
}
