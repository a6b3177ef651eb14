using System;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// A loss whose parameters are declared nullable: <c>x</c> reaches a term that does not take
/// null, <c>y</c> one that does. The term <c>Missing</c> of <see cref="WithNullTerm"/> returns null.
/// </summary>
public partial class NullableInputsLoss
{
    /// <summary>How often <c>Hard</c> ran.</summary>
    public int HardCalls { get; private set; }

    [Term] Tensor Hard(Tensor x)
    {
        HardCalls++;
        return x.mean();
    }

    [Term] Tensor Soft(Tensor? y) => y is null ? tensor(0.0) : y.abs().mean();

    [Term] Tensor? Missing(Tensor x) => null;

    [Loss("Total = Hard + Balance(Soft, to: Hard, ema: 0.9)")]
    public partial NullableInputsResult Compute(Tensor? x, Tensor? y);

    [Loss("Total = Hard + Missing")]
    public partial Tensor WithNullTerm(Tensor x);
}

/// <summary>Null where a loss declares <c>Tensor?</c>: a clear exception naming the culprit, and nothing run.</summary>
public class NullableInputTests
{
    [Fact]
    public void ANullArgumentThatATermCannotTakeThrowsBeforeAnythingRuns()
    {
        using var scope = NewDisposeScope();
        var loss = new NullableInputsLoss();

        var thrown = Assert.Throws<ArgumentNullException>(() => loss.Compute(null, tensor(new[] { 1.0, 2.0 })));

        Assert.Equal("x", thrown.ParamName);
        Assert.Equal(0, loss.HardCalls);
        Assert.Equal(0.0, loss.ComputeState.Site<LossDsl.State.EmaBalanceState>("balance0").Statistic("w").item<double>()); // no update
    }

    [Fact]
    public void ANullArgumentATermTakesReachesTheTerm()
    {
        using var scope = NewDisposeScope();
        var loss = new NullableInputsLoss();

        using var result = loss.Compute(tensor(new[] { 1.0, 3.0 }), null);

        Assert.Equal(0.0, result.Soft.item<double>());
        Assert.Equal(2.0, result.Total.item<double>());
    }

    [Fact]
    public void ATermThatReturnsNullThrowsNamingTheTerm()
    {
        using var scope = NewDisposeScope();

        var thrown = Assert.Throws<ArgumentNullException>(() => new NullableInputsLoss().WithNullTerm(tensor(new[] { 1.0, 3.0 })));

        Assert.Equal("Missing", thrown.ParamName);
    }
}
