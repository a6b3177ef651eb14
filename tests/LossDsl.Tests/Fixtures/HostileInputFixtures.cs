using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

// Losses for the hostile-input tests: a call that throws after the state was read, a checked
// stateful loss, and strategies over chosen values.

/// <summary>CheckFinite on a loss with state: a non-finite call throws, and must change nothing.</summary>
public partial class CheckedEmaLoss
{
    [Loss("Total = hard + Balance(soft, to: hard, ema: 0.9)", CheckFinite = true)]
    public partial CheckedEmaResult Compute(Tensor hard, Tensor soft);
}

/// <summary>Every kind of statistic, then a term that can throw: the earlier sites must not keep the failed call's update.</summary>
public partial class LateFailureLoss
{
    /// <summary>Makes the term <c>Late</c>, called after every stateful site, throw (it also throws for a negative <c>hard</c>).</summary>
    public bool Fail { get; set; }

    [Term] Tensor Late(Tensor hard) => Fail || hard.item<double>() < 0 ? throw new InvalidOperationException("The late term failed.") : hard.mul(2);

    [Loss("Total = Balance(soft, to: hard, ema: 0.9) + CoV(hard, soft) + Dwa(hard, soft, window: 2) + Linear(1, 0, 10) * Late")]
    public partial LateFailureResult Compute(Tensor hard, Tensor soft);
}
