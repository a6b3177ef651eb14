using LossDsl.Tests.Fixtures;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>Names resolve in the generated code exactly as the checker resolved them.</summary>
public class HiddenTermTests
{
    [Fact]
    public void A_term_hidden_by_a_helper_of_the_same_name_is_still_the_term_the_formula_calls()
    {
        using var scope = NewDisposeScope();
        using Tensor total = new HidingLoss().Compute(tensor(new[] { 1.0, 2.0, 3.0 }));
        Assert.Equal(2.0, total.item<double>()); // the term's mean; the helper would give 6000
    }
}
