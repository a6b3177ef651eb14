using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>Proves the native backend loads on this host (DESIGN.md §6) and autograd works.</summary>
public class TorchSharpHostTests
{
    [Fact]
    public void TensorOpAndBackwardPassRun()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2.0, 3.0 }, requires_grad: true);
        var y = (x * x).sum();

        y.backward();

        Assert.Equal(14.0, y.item<double>(), 12);
        Assert.Equal(new[] { 2.0, 4.0, 6.0 }, x.grad!.data<double>().ToArray());
    }
}
