using System;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>A generated result after <c>Dispose()</c>: its values and metrics are gone, and say so.</summary>
public class ResultLifetimeTests
{
    [Fact]
    public void ADisposedResultThrowsObjectDisposedExceptionForMetricsAndValues()
    {
        using var scope = NewDisposeScope();
        var loss = new GivenTermsDistillation();
        var result = loss.Compute(tensor(2.3), tensor(0.7), tensor(0.4));
        Assert.NotEmpty(result.Metrics());

        result.Dispose();

        var metrics = Assert.Throws<ObjectDisposedException>(() => result.Metrics());
        Assert.Contains(nameof(GivenTermsDistillationResult), metrics.ObjectName);
        Assert.Throws<ObjectDisposedException>(() => result.Total);
        Assert.Throws<ObjectDisposedException>(() => ((ILossResult)result).Loss);
        result.Dispose(); // a second Dispose does nothing
    }

    [Fact]
    public void DisposingTheResultDisposesItsTensors()
    {
        using var scope = NewDisposeScope();
        var result = new GivenTermsDistillation().Compute(tensor(2.3), tensor(0.7), tensor(0.4));
        Tensor total = result.Total;

        result.Dispose();

        Assert.True(total.IsInvalid);
    }

    [Fact]
    public void DisposingTheResultLeavesATensorATermReturnedAsItIs()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(3.0);
        var result = new IdentityTermLoss().Compute(x);
        Assert.NotSame(x, result.Given);

        result.Dispose();

        Assert.False(x.IsInvalid);
        Assert.Equal(3.0, x.item<double>());
    }
}
