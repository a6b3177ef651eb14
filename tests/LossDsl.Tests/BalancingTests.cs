using System;
using System.Collections.Generic;
using LossDsl.Testing;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static LossDsl.Tests.RelativeTolerance;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// What the generated balancing code promises beyond its values: no gradient through a scale,
/// guards that keep vanishing and extreme losses finite, nothing left alive, and clear errors.
/// </summary>
public class BalancingTests
{
    public static IEnumerable<object[]> Seeds()
    {
        for (int seed = 1; seed <= 20; seed++)
        {
            yield return new object[] { seed };
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void GradientsTreatBothScalesAsConstants(int seed)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        double hValue = 0.2 + 2 * rng.NextDouble(), sValue = 2 * rng.NextDouble() - 1, fValue = 0.2 + rng.NextDouble();
        var loss = new ParameterizedDistillation { Alpha = 0.1 + rng.NextDouble() };
        Tensor h = tensor(hValue, requires_grad: true), s = tensor(sValue, requires_grad: true), f = tensor(fValue, requires_grad: true);

        using var result = loss.Compute(h, s, f);
        result.Total.backward();

        // hard = h², soft = eˢ, feature = f⁴; with the scales held constant:
        // total = hard + α·kdScale·(soft + featureScale·feature).
        double hard = hValue * hValue, soft = Math.Exp(sValue), feature = Math.Pow(fValue, 4);
        double featureScale = soft / feature;
        double kd = soft + feature * featureScale;
        double kdScale = hard / kd;
        double alpha = loss.Alpha;
        Assert.Equal(2 * hValue, h.grad!.item<double>(), 10);
        Assert.Equal(alpha * kdScale * soft, s.grad!.item<double>(), 10);
        Assert.Equal(alpha * kdScale * featureScale * 4 * Math.Pow(fValue, 3), f.grad!.item<double>(), 10);
    }

    [Fact]
    public void ScalesRecordNoAutogradGraph()
    {
        using var scope = NewDisposeScope();
        var loss = new ParameterizedDistillation();
        using var result = loss.Compute(tensor(1.5, requires_grad: true), tensor(0.3, requires_grad: true), tensor(0.7, requires_grad: true));

        Assert.False(result.FeatureScale.requires_grad);
        Assert.False(result.KdScale.requires_grad);
        Assert.True(result.Total.requires_grad);
        Assert.True(result.Kd.requires_grad);
    }

    public static IEnumerable<object[]> GuardCases()
    {
        foreach (ScalarType type in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            // hard, soft, feature, the feature scale and kd scale the guards must give.
            yield return new object[] { type, 2.0, 3.0, 0.0, 1.0, 2.0 / 3.0 };          // zero feature loss: passes through
            yield return new object[] { type, 0.0, 3.0, 4.0, 0.75, 1.0 };               // zero hard loss: kd passes through
            yield return new object[] { type, 0.0, 0.0, 0.0, 1.0, 1.0 };                // everything zero
            yield return new object[] { type, 1.0, 1e-30, 2.0, 1.0, 0.5 };              // vanishing target: kd ≈ feature
            yield return new object[] { type, 1.0, 1.0, 1e-30, 1.0, 1.0 / (1.0 + 1e-30) };
            yield return new object[] { type, 1e30, 1.0, 2.0, 0.5, 1e30 / 2.0 };         // huge hard loss
            yield return new object[] { type, 1.0, 1e30, 1e30, 1.0, 1.0 / 2e30 };
            yield return new object[] { type, 1e-30, 2.0, 1e30, 2.0 / 1e30, 1.0 };      // vanishing hard loss
        }
    }

    [Theory]
    [MemberData(nameof(GuardCases))]
    public void GuardsKeepTotalsAndGradientsFinite(ScalarType type, double hard, double soft, double feature, double expectedFeatureScale, double expectedKdScale)
    {
        using var scope = NewDisposeScope();
        var loss = new GivenTermsDistillation();
        Tensor h = tensor(hard, type).requires_grad_(true), s = tensor(soft, type).requires_grad_(true), f = tensor(feature, type).requires_grad_(true);

        using var result = loss.Compute(h, s, f);
        result.Total.backward();

        double tolerance = type == ScalarType.Float64 ? 1e-12 : 1e-6;
        AssertClose(expectedFeatureScale, result.FeatureScale, tolerance, "feature scale");
        AssertClose(expectedKdScale, result.KdScale, tolerance, "kd scale");
        Assert.True(double.IsFinite(result.Total.to(ScalarType.Float64).item<double>()), "total is not finite");
        foreach (Tensor parameter in new[] { h, s, f })
        {
            Assert.True(double.IsFinite(parameter.grad!.to(ScalarType.Float64).item<double>()), "a gradient is not finite");
        }
    }

    [Fact]
    public void ThousandCallsLeaveNoTensorAlive()
    {
        var loss = new DistillationLoss();
        var rng = new Random(7);
        using var studentLogits = HandComputed.RandomTensor(rng, new long[] { 4, 10 }, requiresGrad: true);
        using var teacherLogits = HandComputed.RandomTensor(rng, new long[] { 4, 10 });
        using var labels = HandComputed.RandomLabels(rng, new long[] { 4, 10 });
        using var studentFeatures = HandComputed.RandomTensor(rng, new long[] { 4, 8 });
        using var teacherFeatures = HandComputed.RandomTensor(rng, new long[] { 4, 8 });
        long before = LiveTensors.Count;

        var held = new List<DistillationLossResult>();
        for (int i = 0; i < 1000; i++)
        {
            var result = loss.Compute(studentLogits, teacherLogits, labels, studentFeatures, teacherFeatures);
            if (i % 250 == 0)
            {
                held.Add(result); // the test keeps a few results: exactly their tensors stay alive
            }
            else
            {
                result.Dispose();
            }
        }

        const int tensorsPerResult = 7; // total, soft, feature, hard, kd, feature_scale, kd_scale
        Assert.Equal(before + held.Count * tensorsPerResult, LiveTensors.Count);
        held.ForEach(r => r.Dispose());
        Assert.Equal(before, LiveTensors.Count);
    }

    [Fact]
    public void TheLossOnlyFormLeavesOnlyTheLoss()
    {
        var loss = new GivenTermsDistillation();
        using var hard = tensor(2.0);
        using var soft = tensor(3.0);
        using var feature = tensor(4.0);
        long before = LiveTensors.Count;

        Tensor total = loss.LossOnly(hard, soft, feature);

        Assert.Equal(before + 1, LiveTensors.Count);
        Assert.Equal(3.0, total.item<double>(), 12);
        total.Dispose();
        Assert.Equal(before, LiveTensors.Count);
    }

    [Fact]
    public void ANonScalarTermThrowsNamingTheTermAndItsShape()
    {
        var loss = new UnreducedTermLoss();
        using var predictions = ones(4, 3);
        using var targets = zeros(4, 3);
        long before = LiveTensors.Count;

        var error = Assert.Throws<ArgumentException>(() => loss.Compute(predictions, targets));

        Assert.Contains("'PerSample'", error.Message);
        Assert.Contains("[4, 3]", error.Message);
        Assert.Equal(before, LiveTensors.Count); // the failed call leaks nothing
    }

    [Fact]
    public void ANonScalarTensorParameterThrowsNamingTheParameter()
    {
        var loss = new GivenTermsDistillation();
        using var hard = tensor(1.0);
        using var soft = ones(2);
        using var feature = tensor(1.0);

        var error = Assert.Throws<ArgumentException>(() => loss.Compute(hard, soft, feature));

        Assert.Contains("'soft'", error.Message);
        Assert.Contains("[2]", error.Message);
    }

    [Fact]
    public void CheckFiniteNamesEveryNonFiniteValueAndLeaksNothing()
    {
        var loss = new CheckedLoss();
        using var hard = tensor(new[] { 1.0, double.NaN });
        using var soft = tensor(new[] { 1.0, 2.0 });
        long before = LiveTensors.Count;

        var error = Assert.Throws<ArithmeticException>(() => loss.Compute(hard, soft));

        Assert.Equal("The loss produced non-finite values in: Total, Hard.", error.Message);
        Assert.Equal(before, LiveTensors.Count);
    }

    [Fact]
    public void CheckFinitePassesFiniteValuesThrough()
    {
        using var scope = NewDisposeScope();
        using var result = new CheckedLoss().Compute(tensor(new[] { 1.0, 3.0 }), tensor(new[] { 0.5, 0.5 }));

        Assert.Equal(2.5, result.Total.item<double>(), 12);
    }
}
