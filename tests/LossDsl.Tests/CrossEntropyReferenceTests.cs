using System;
using System.Collections.Generic;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// <see cref="Losses.CrossEntropy"/> against <c>torch.nn.functional.cross_entropy</c> (PyTorch
/// 1.13): label smoothing, class weights, both together, ignore index and mask, probability labels,
/// extreme logits, and the empty means where PyTorch gives NaN and LossDsl zero.
/// </summary>
public class CrossEntropyReferenceTests
{
    private const string File = "cross_entropy";

    public static TheoryData<string> Cases => PyTorchReference.Ids(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void CrossEntropy_MatchesPyTorch(string id) => Check(id, Chunking.Auto);

    /// <summary>The same cases on the chunked path (class-index labels; probability labels stay unchunked), in chunks of one and two rows.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void CrossEntropy_Chunked_MatchesPyTorch(string id)
    {
        Check(id, Chunking.Rows(1));
        Check(id, Chunking.Rows(2));
    }

    private static void Check(string id, Chunking chunking)
    {
        using var scope = NewDisposeScope();
        var c = PyTorchReference.Get(File, id);
        var logits = c.Input("logits", requiresGrad: true);

        var loss = Losses.CrossEntropy(
            logits, c.Input("labels"), ignoreIndex: (long)c.Param("ignoreIndex", -100), mask: c.Optional("mask"),
            labelSmoothing: c.Param("labelSmoothing", 0), weight: c.Optional("weight"), chunking: chunking);

        PyTorchReference.AssertMatches(c, loss, new Dictionary<string, Tensor> { ["logits"] = logits });
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void CrossEntropy_SmoothingOutsideZeroToOne_Throws(double smoothing)
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => Losses.CrossEntropy(torch.zeros(2, 3), torch.zeros(2, ScalarType.Int64), labelSmoothing: smoothing));
        Assert.Equal("labelSmoothing", error.ParamName);
    }

    [Fact]
    public void CrossEntropy_WeightOfWrongShape_NamesBothShapes()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(
            () => Losses.CrossEntropy(torch.zeros(2, 3), torch.zeros(2, ScalarType.Int64), weight: torch.ones(4)));
        Assert.Equal("weight", error.ParamName);
        Assert.Contains("[4]", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void CrossEntropy_IntegerWeight_Throws()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(
            () => Losses.CrossEntropy(torch.zeros(2, 3), torch.zeros(2, ScalarType.Int64), weight: torch.ones(3, ScalarType.Int64)));
        Assert.Equal("weight", error.ParamName);
    }

    [Fact]
    public void CrossEntropy_NoGradientReachesTheWeights()
    {
        using var scope = NewDisposeScope();
        var weight = torch.tensor(new[] { 1.0, 2.0, 0.5 }).requires_grad_(true);
        var loss = Losses.CrossEntropy(torch.randn(4, 3, ScalarType.Float64), torch.tensor(new long[] { 0, 1, 2, 1 }), labelSmoothing: 0.1, weight: weight);
        Assert.False(loss.requires_grad);
    }
}
