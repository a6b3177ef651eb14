using System;
using System.Collections.Generic;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// <see cref="Losses.ReverseKl"/>, <see cref="Losses.JensenShannon"/> and <see cref="Losses.TopKKl"/> against the same
/// divergences computed by PyTorch 1.13 from <c>log_softmax</c>, <c>kl_div</c> and
/// <c>logsumexp</c> and <c>topk</c> (the generalized JSD as Liger Kernel defines it): temperatures, β from 0 to 1,
/// ignored and masked positions, extreme logits, and every position ignored.
/// </summary>
public class DistillationReferenceTests
{
    public static TheoryData<string> ReverseKlCases => PyTorchReference.Ids("reverse_kl");

    public static TheoryData<string> JensenShannonCases => PyTorchReference.Ids("jensen_shannon");

    public static TheoryData<string> TopKKlCases => PyTorchReference.Ids("top_k_kl");

    /// <summary>Each case on the default path, then in chunks of one and of two rows.</summary>
    private static readonly Chunking[] Paths = { Chunking.Auto, Chunking.Rows(1), Chunking.Rows(2) };

    [Theory]
    [MemberData(nameof(ReverseKlCases))]
    public void ReverseKl_MatchesPyTorch(string id)
    {
        foreach (var chunking in Paths)
        {
            Check("reverse_kl", id, (c, student) => Losses.ReverseKl(
                student, c.Input("teacher"), c.Param("temperature", double.NaN), c.Optional("labels"), mask: c.Optional("mask"), chunking: chunking));
        }
    }

    [Theory]
    [MemberData(nameof(JensenShannonCases))]
    public void JensenShannon_MatchesPyTorch(string id)
    {
        foreach (var chunking in Paths)
        {
            Check("jensen_shannon", id, (c, student) => Losses.JensenShannon(
                student, c.Input("teacher"), c.Param("beta", double.NaN), c.Param("temperature", double.NaN), c.Optional("labels"),
                mask: c.Optional("mask"), chunking: chunking));
        }
    }

    [Theory]
    [MemberData(nameof(TopKKlCases))]
    public void TopKKl_MatchesPyTorch(string id)
    {
        foreach (var chunking in Paths)
        {
            Check("top_k_kl", id, (c, student) => Losses.TopKKl(
                student, c.Input("teacher"), (int)c.Param("k", double.NaN), c.Param("temperature", double.NaN), c.Optional("labels"),
                mask: c.Optional("mask"), chunking: chunking));
        }
    }

    [Fact]
    public void TopKKl_AllClasses_IsSoftTargetKl()
    {
        using var scope = NewDisposeScope();
        var student = torch.randn(4, 5, ScalarType.Float64);
        var teacher = torch.randn(4, 5, ScalarType.Float64);
        RelativeTolerance.AssertClose(
            Losses.SoftTargetKl(student, teacher, 1.5).item<double>(), Losses.TopKKl(student, teacher, k: 5, temperature: 1.5), 1e-12);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void TopKKl_KOutOfRange_Throws(int k)
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.TopKKl(torch.zeros(2, 5), torch.zeros(2, 5), k));
        Assert.Equal("k", error.ParamName);
        Assert.Contains("[2, 5]", error.Message);
    }

    [Fact]
    public void JensenShannon_NoGradientReachesTheTeacher()
    {
        using var scope = NewDisposeScope();
        var teacher = torch.randn(3, 4, ScalarType.Float64).requires_grad_(true);
        Assert.False(Losses.JensenShannon(torch.randn(3, 4, ScalarType.Float64), teacher).requires_grad);
        Assert.False(Losses.ReverseKl(torch.randn(3, 4, ScalarType.Float64), teacher).requires_grad);
        Assert.False(Losses.TopKKl(torch.randn(3, 4, ScalarType.Float64), teacher, 2).requires_grad);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void JensenShannon_BetaOutsideZeroToOne_Throws(double beta)
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.JensenShannon(torch.zeros(2, 3), torch.zeros(2, 3), beta));
        Assert.Equal("beta", error.ParamName);
    }

    [Fact]
    public void ReverseKl_LabelsOfWrongShape_NameBothShapes()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(
            () => Losses.ReverseKl(torch.zeros(2, 3), torch.zeros(2, 3), labels: torch.zeros(3, ScalarType.Int64)));
        Assert.Equal("labels", error.ParamName);
        Assert.Contains("[3]", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void ReverseKl_TeacherOfWrongShape_NamesBothShapes()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => Losses.ReverseKl(torch.zeros(2, 3), torch.zeros(2, 4)));
        Assert.Equal("teacherLogits", error.ParamName);
        Assert.Contains("[2, 3]", error.Message);
        Assert.Contains("[2, 4]", error.Message);
    }

    [Fact]
    public void JensenShannon_BetaZero_IsSoftTargetKl()
    {
        using var scope = NewDisposeScope();
        var student = torch.randn(4, 5, ScalarType.Float64);
        var teacher = torch.randn(4, 5, ScalarType.Float64);
        RelativeTolerance.AssertClose(
            Losses.SoftTargetKl(student, teacher, 2.0).item<double>(), Losses.JensenShannon(student, teacher, beta: 0, temperature: 2.0), 1e-12);
    }

    private static void Check(string file, string id, Func<PyTorchReference.Case, Tensor, Tensor> loss)
    {
        using var scope = NewDisposeScope();
        var c = PyTorchReference.Get(file, id);
        var student = c.Input("student", requiresGrad: true);
        PyTorchReference.AssertMatches(c, loss(c, student), new Dictionary<string, Tensor> { ["student"] = student });
    }
}
