using LossDsl;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

/// <summary>A base type whose term a derived loss hides with a helper of the same name and shape.</summary>
public class HiddenTermBase
{
    [Term] protected internal Tensor Hard(Tensor x) => x.mean();
}

/// <summary>The formula names the term <c>Hard</c>: the generated code must call the base's term, not the helper.</summary>
public partial class HidingLoss : HiddenTermBase
{
    /// <summary>Not a term: a helper that hides the base's term (x.sum() · 1000).</summary>
    public new Tensor Hard(Tensor x) => x.sum().mul(1000);

    [Loss("Total = Hard")]
    public partial Tensor Compute(Tensor x);
}
