using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// <see cref="Losses.CosineDistance"/>'s closed-form backward against autograd through libtorch's own
/// <c>cosine_similarity</c> (eps 1e-8), the formula it reproduces: values and gradients on odd shapes, for either input
/// or both, with zero and near-zero vectors (norms below eps), in float64, float32 and half precision; two backward
/// passes over a retained graph; an input changed in place after the forward; no tensor left alive; and no read of
/// tensor data on the host (on the meta device).
/// </summary>
public class CosineDistanceGradientTests
{
    public static TheoryData<long[], string> ShapesAndInputs()
    {
        var data = new TheoryData<long[], string>();
        foreach (var shape in new[] { new long[] { 3, 4, 5 }, new long[] { 7 }, new long[] { 1, 6 }, new long[] { 2, 3, 2 }, new long[] { 0, 4 } })
        {
            foreach (var which in new[] { "a", "b", "both" })
            {
                data.Add(shape, which);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ShapesAndInputs))]
    public void Float64_MatchesAutogradThroughCosineSimilarity(long[] shape, string which) =>
        AssertMatchesAutograd(Inputs(shape, ScalarType.Float64, seed: 3), which, 1e-12);

    [Theory]
    [MemberData(nameof(ShapesAndInputs))]
    public void Float32_MatchesAutogradThroughCosineSimilarity(long[] shape, string which) =>
        AssertMatchesAutograd(Inputs(shape, ScalarType.Float32, seed: 4), which, 1e-6);

    [Fact]
    public void OneElementVectors_ValueMatches_GradientIsZeroToRounding()
    {
        // cos is ±1 whatever the values, so the true gradient is 0; both sides leave rounding residue only.
        using var scope = NewDisposeScope();
        var (a, b) = Inputs(new long[] { 2, 3, 1 }, ScalarType.Float32, seed: 10);
        var (expectedValue, _, _) = Autograd(a, b, "both");

        var (value, gradientA, gradientB) = ClosedForm(a, b, "both");

        RelativeTolerance.AssertClose(expectedValue.item<float>(), value, 1e-6);
        // Each gradient is the difference of two parts of size 1 / (N |x|) for input x (N = 6 positions), which cancel.
        AssertZeroToRounding(gradientA!, a, "a");
        AssertZeroToRounding(gradientB!, b, "b");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("both")]
    public void ZeroAndNearZeroVectors_MatchAutograd(string which)
    {
        using var scope = NewDisposeScope();
        var (a, b) = Inputs(new long[] { 4, 3 }, ScalarType.Float64, seed: 5);
        // Row 0 of a is zero, row 1 has a norm below eps (1e-8), row 2 of b is zero, row 3 is ordinary.
        a[0].zero_();
        a[1].copy_(a[1] * 1e-10);
        b[2].zero_();

        AssertMatchesAutograd((a, b), which, 1e-12);
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void HalfPrecision_GradientInTheInputDtype_MatchesAutogradInFloat32(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var (a, b) = Inputs(new long[] { 3, 8 }, type, seed: 6);
        var (expectedValue, expectedA, expectedB) = Autograd(a.to(ScalarType.Float32), b.to(ScalarType.Float32), "both");

        var (value, gradientA, gradientB) = ClosedForm(a, b, "both");

        Assert.Equal(ScalarType.Float32, value.dtype);
        Assert.Equal(type, gradientA!.dtype);
        Assert.Equal(type, gradientB!.dtype);
        RelativeTolerance.AssertClose(expectedValue.item<float>(), value, 1e-6);
        // Each gradient is rounded once to the input dtype.
        AssertClose(expectedA!, gradientA, type == ScalarType.Float16 ? 1e-3 : 8e-3, "a");
        AssertClose(expectedB!, gradientB, type == ScalarType.Float16 ? 1e-3 : 8e-3, "b");
    }

    [Fact]
    public void TwoBackwardPassesOverARetainedGraph_GiveTheSameGradientTwice()
    {
        using var scope = NewDisposeScope();
        var (a, b) = Inputs(new long[] { 3, 5 }, ScalarType.Float64, seed: 7);
        var x = a.requires_grad_(true);

        var loss = Losses.CosineDistance(x, b);
        loss.backward(retain_graph: true);
        var first = x.grad!.clone();
        x.grad!.zero_();
        loss.backward();

        AssertClose(first, x.grad!, 0, "second pass");
    }

    [Theory]
    [InlineData("a", "a")]
    [InlineData("a", "b")]
    [InlineData("both", "a")]
    [InlineData("both", "b")]
    public void AnInputChangedInPlaceAfterTheForward_GradientIsNaN(string which, string changed)
    {
        // The backward reads both inputs, the one that needs no gradient too: a change to either gives NaN.
        using var scope = NewDisposeScope();
        var (a, b) = Inputs(new long[] { 3, 5 }, ScalarType.Float64, seed: 8);
        var x = a.clone().requires_grad_(which != "b");
        var y = b.clone().requires_grad_(which != "a");

        var loss = Losses.CosineDistance(x, y);
        using (torch.no_grad())
        {
            (changed == "a" ? x : y).add_(1);
        }
        loss.backward();

        Assert.True(x.grad!.isnan().all().item<bool>(), "every element of a's gradient is NaN");
        Assert.True(which == "a" ? y.grad is null : y.grad!.isnan().all().item<bool>(), "every element of b's gradient is NaN");
    }

    [Fact]
    public void HalfPrecision_AnInputChangedInPlaceAfterTheForward_BackwardGivesTheForwardsGradient()
    {
        // In half precision the function computes on float32 copies of its own, which a change to an input does not reach.
        using var scope = NewDisposeScope();
        var (a, b) = Inputs(new long[] { 3, 8 }, ScalarType.BFloat16, seed: 8);
        var (_, expected, _) = ClosedForm(a, b, "a");
        var x = a.clone().requires_grad_(true);

        var loss = Losses.CosineDistance(x, b);
        using (torch.no_grad())
        {
            x.mul_(-3).add_(1);
        }
        loss.backward();

        AssertClose(expected!, x.grad!, 0, "a");
    }

    [Fact]
    public void WithoutAGradient_TheSameValue_AndNoTensorLeftAlive()
    {
        using var scope = NewDisposeScope();
        var (a, b) = Inputs(new long[] { 4, 6 }, ScalarType.Float32, seed: 9);
        var x = a.requires_grad_(true);
        double withGradient = Losses.CosineDistance(x, b).item<float>();
        double underNoGrad;
        using (torch.no_grad())
        {
            underNoGrad = Losses.CosineDistance(x, b).item<float>();
        }
        Assert.Equal(withGradient, underNoGrad);

        long before = LossDsl.Testing.LiveTensors.Count;
        using (var call = NewDisposeScope())
        {
            Losses.CosineDistance(x, b).backward();
        }
        Assert.Equal(before, LossDsl.Testing.LiveTensors.Count);
    }

    [Fact]
    public void ReadsNoTensorDataOnTheHost()
    {
        // Meta tensors have shapes but no data: a host read anywhere in the forward or either backward would throw.
        using var scope = NewDisposeScope();
        var a = torch.empty(new long[] { 3, 4, 5 }, device: torch.META).requires_grad_(true);
        var b = torch.empty(new long[] { 3, 4, 5 }, device: torch.META).requires_grad_(true);

        var loss = Losses.CosineDistance(a, b);
        var first = torch.autograd.grad(new[] { loss }, new[] { a, b }, retain_graph: true);
        loss.backward();

        Assert.Equal(DeviceType.META, loss.device_type);
        Assert.Equal(a.shape, first[0].shape);
        Assert.Equal(b.shape, first[1].shape);
        Assert.Equal(a.shape, a.grad!.shape);
    }

    private static void AssertMatchesAutograd((Tensor A, Tensor B) inputs, string which, double tolerance)
    {
        using var scope = NewDisposeScope();
        var (expectedValue, expectedA, expectedB) = Autograd(inputs.A, inputs.B, which);
        var (value, gradientA, gradientB) = ClosedForm(inputs.A, inputs.B, which);

        if (expectedValue.to(ScalarType.Float64).item<double>() == 0)
        {
            Assert.Equal(0.0, value.to(ScalarType.Float64).item<double>());
        }
        else
        {
            // Relative to cos's scale, 1, when the loss 1 − cos is smaller: both sides round cos, then cancel.
            double expected = expectedValue.to(ScalarType.Float64).item<double>();
            double error = Math.Abs(value.to(ScalarType.Float64).item<double>() - expected);
            Assert.True(error <= tolerance * Math.Max(Math.Abs(expected), 1), $"value: expected {expected:R}, error {error:E2} > {tolerance:E0} × max(|expected|, 1)");
        }
        Assert.Equal(expectedA is null, gradientA is null);
        Assert.Equal(expectedB is null, gradientB is null);
        if (expectedA is not null)
        {
            AssertClose(expectedA, gradientA!, tolerance, "a");
        }
        if (expectedB is not null)
        {
            AssertClose(expectedB, gradientB!, tolerance, "b");
        }
    }

    /// <summary>The loss 1 − cos averaged over positions through <c>cosine_similarity</c>, and autograd's gradients.</summary>
    private static (Tensor Value, Tensor? A, Tensor? B) Autograd(Tensor a, Tensor b, string which)
    {
        var x = a.detach().clone().requires_grad_(which != "b");
        var y = b.detach().clone().requires_grad_(which != "a");
        long positions = Math.Max(a.shape[..^1].Aggregate(1L, (p, d) => p * d), 1L);
        var value = nn.functional.cosine_similarity(x, y, dim: -1, eps: 1e-8).neg().add(1).sum() / (double)positions;
        value.backward();
        return (value.detach(), x.grad, y.grad);
    }

    private static (Tensor Value, Tensor? A, Tensor? B) ClosedForm(Tensor a, Tensor b, string which)
    {
        var x = a.detach().clone().requires_grad_(which != "b");
        var y = b.detach().clone().requires_grad_(which != "a");
        var value = Losses.CosineDistance(x, y);
        value.backward();
        return (value.detach(), x.grad, y.grad);
    }

    private static (Tensor A, Tensor B) Inputs(long[] shape, ScalarType type, int seed)
    {
        var generator = new torch.Generator((ulong)seed);
        var a = torch.randn(shape, ScalarType.Float64, generator: generator).to(type);
        var b = (torch.randn(shape, ScalarType.Float64, generator: generator) * 0.5 + a.to(ScalarType.Float64) * 0.5).to(type);
        return (a, b);
    }

    /// <summary>Every element of <paramref name="gradient"/> within 4 float32 eps of the size 1 / (N |x|) of the parts that cancel in it.</summary>
    private static void AssertZeroToRounding(Tensor gradient, Tensor x, string name)
    {
        long positions = x.shape[..^1].Aggregate(1L, (p, d) => p * d);
        double worst = gradient.abs().mul(x.abs()).mul((double)positions).max().item<float>();
        Assert.True(worst <= 4 * 1.2e-7, $"{name}'s gradient is zero to rounding: |gradient| N |x| reaches {worst:E2}");
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string context) =>
        RelativeTolerance.AssertElementsClose(expected, actual, tolerance, context + " (gradient)");
}
