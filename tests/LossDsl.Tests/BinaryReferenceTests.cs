using System;
using System.Collections.Generic;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// <see cref="Losses.BinaryCrossEntropyWithLogits"/> against PyTorch 1.13's
/// <c>binary_cross_entropy_with_logits</c>, and <see cref="Losses.Focal"/> against Lin et al.'s
/// focal loss computed from PyTorch primitives: pos weights, element weights with zeros, masks,
/// soft targets, extreme logits, and an all-masked input.
/// </summary>
public class BinaryReferenceTests
{
    public static TheoryData<string> BceCases => PyTorchReference.Ids("binary_cross_entropy_with_logits");

    public static TheoryData<string> FocalCases => PyTorchReference.Ids("focal");

    [Theory]
    [MemberData(nameof(BceCases))]
    public void BinaryCrossEntropyWithLogits_MatchesPyTorch(string id)
    {
        using var scope = NewDisposeScope();
        var c = PyTorchReference.Get("binary_cross_entropy_with_logits", id);
        var logits = c.Input("logits", requiresGrad: true);

        var loss = Losses.BinaryCrossEntropyWithLogits(
            logits, c.Input("targets"), weight: c.Optional("weight"), posWeight: c.Optional("posWeight"), mask: c.Optional("mask"));

        PyTorchReference.AssertMatches(c, loss, new Dictionary<string, Tensor> { ["logits"] = logits });
    }

    [Theory]
    [MemberData(nameof(FocalCases))]
    public void Focal_MatchesPyTorch(string id)
    {
        using var scope = NewDisposeScope();
        var c = PyTorchReference.Get("focal", id);
        var logits = c.Input("logits", requiresGrad: true);
        double alpha = c.Param("alpha", double.NaN);

        var loss = Losses.Focal(
            logits, c.Input("targets"), alpha: double.IsNaN(alpha) ? null : alpha, gamma: c.Param("gamma", double.NaN), mask: c.Optional("mask"));

        PyTorchReference.AssertMatches(c, loss, new Dictionary<string, Tensor> { ["logits"] = logits });
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_PosWeightOfWrongShape_NamesBothShapes()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(
            () => Losses.BinaryCrossEntropyWithLogits(torch.zeros(2, 3), torch.zeros(2, 3), posWeight: torch.ones(2)));
        Assert.Equal("posWeight", error.ParamName);
        Assert.Contains("[2]", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_TargetsOfWrongShape_NamesBothShapes()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => Losses.BinaryCrossEntropyWithLogits(torch.zeros(2, 3), torch.zeros(3, 2)));
        Assert.Equal("targets", error.ParamName);
        Assert.Contains("[2, 3]", error.Message);
        Assert.Contains("[3, 2]", error.Message);
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_Float64PosWeight_ComputesInFloat64()
    {
        using var scope = NewDisposeScope();
        var logits = torch.tensor(new[] { 0.1f, -0.2f, 0.3f }).reshape(1, 3);
        var targets = torch.tensor(new[] { 1f, 0f, 1f }).reshape(1, 3);
        var posWeight = torch.tensor(new[] { 1.0 / 3, 2.0, 0.7 });

        var loss = Losses.BinaryCrossEntropyWithLogits(logits, targets, posWeight: posWeight);

        Assert.Equal(ScalarType.Float64, loss.dtype);
        var exact = Losses.BinaryCrossEntropyWithLogits(logits.to(ScalarType.Float64), targets.to(ScalarType.Float64), posWeight: posWeight);
        Assert.Equal(exact.item<double>(), loss.item<double>());
    }

    [Theory]
    [InlineData(-0.1, 2.0, "alpha")]
    [InlineData(1.1, 2.0, "alpha")]
    [InlineData(double.NaN, 2.0, "alpha")]
    [InlineData(0.25, -1.0, "gamma")]
    [InlineData(0.25, double.PositiveInfinity, "gamma")]
    public void Focal_ParameterOutOfRange_Throws(double alpha, double gamma, string parameter)
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Focal(torch.zeros(3), torch.zeros(3), alpha, gamma));
        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void Focal_GammaZeroWithoutAlpha_IsBinaryCrossEntropy()
    {
        using var scope = NewDisposeScope();
        var logits = torch.tensor(new[] { 2.0, -1.0, 0.0, 5.0 });
        var targets = torch.tensor(new[] { 1.0, 0.0, 1.0, 0.3 });
        RelativeTolerance.AssertClose(
            Losses.BinaryCrossEntropyWithLogits(logits, targets).item<double>(), Losses.Focal(logits, targets, alpha: null, gamma: 0), 1e-15);
    }
}
