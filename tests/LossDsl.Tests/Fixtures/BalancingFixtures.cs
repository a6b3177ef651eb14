using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

/// <summary>
/// The PR 4220 formula over terms that are functions of separate scalar parameters, so that each
/// parameter's gradient can be written down by hand: hard = h², soft = eˢ, feature = f⁴.
/// </summary>
public partial class ParameterizedDistillation
{
    public double Alpha { get; set; } = 0.5;

    [Term] static Tensor Hard(Tensor h) => h.pow(2);

    [Term] static Tensor Soft(Tensor s) => s.exp();

    [Term] static Tensor Feature(Tensor f) => f.pow(4);

    [Loss("""
        Kd    = Soft + Balance(Feature, to: Soft)
        Total = Hard + Alpha * Balance(Kd, to: Hard)
        """)]
    public partial ParameterizedDistillationResult Compute(Tensor h, Tensor s, Tensor f);
}

/// <summary>The PR 4220 formula over losses the caller computed (Tensor parameters), for the guard cases.</summary>
public partial class GivenTermsDistillation
{
    public double Alpha { get; set; } = 0.5;

    [Loss("""
        Kd    = soft + Balance(feature, to: soft)
        Total = hard + Alpha * Balance(Kd, to: hard)
        """, MetricsPrefix = "distill/")]
    public partial GivenTermsDistillationResult Compute(Tensor hard, Tensor soft, Tensor feature);

    /// <summary>The same computation, returning the loss only.</summary>
    [Loss("""
        Kd    = soft + Balance(feature, to: soft)
        Total = hard + Alpha * Balance(Kd, to: hard)
        """)]
    public partial Tensor LossOnly(Tensor hard, Tensor soft, Tensor feature);
}

/// <summary>A term that forgets to reduce: it returns one loss per sample.</summary>
public partial class UnreducedTermLoss
{
    [Term] static Tensor PerSample(Tensor predictions, Tensor targets) => (predictions - targets).pow(2);

    [Term] static Tensor Reduced(Tensor predictions, Tensor targets) => (predictions - targets).abs().mean();

    [Loss("Total = Reduced + PerSample")]
    public partial Tensor Compute(Tensor predictions, Tensor targets);
}

/// <summary>CheckFinite: one host synchronisation per call, and an exception naming every non-finite value.</summary>
public partial class CheckedLoss
{
    [Term] static Tensor Hard(Tensor hardInput) => hardInput.mean();

    [Term] static Tensor Soft(Tensor softInput) => softInput.mean();

    [Loss("Total = Hard + Soft", CheckFinite = true)]
    public partial CheckedLossResult Compute(Tensor hardInput, Tensor softInput);
}

/// <summary>A term that returns its input as it is: the result must not own (and dispose) the caller's tensor.</summary>
public partial class IdentityTermLoss
{
    [Term] Tensor Given(Tensor x) => x;

    [Loss("Total = Given * 2")]
    public partial IdentityTermResult Compute(Tensor x);
}
