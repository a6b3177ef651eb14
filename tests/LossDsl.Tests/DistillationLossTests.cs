using System;
using System.Collections.Generic;
using LossDsl.Testing;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static LossDsl.Tests.HandComputed;
using static LossDsl.Tests.RelativeTolerance;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The README's distillation loss (tests/Shared/DistillationLoss.cs), compiled by the real
/// generator, against an independent computation of MaxText PR 4220 by hand in double precision:
///   feature_scale = sg(soft) / sg(feature)      kd    = soft + feature * feature_scale
///   kd_scale      = sg(hard) / sg(kd)           total = hard + alpha * (kd * kd_scale)
/// </summary>
public class DistillationLossTests
{
    public static TheoryData<int, ScalarType> Inputs()
    {
        var data = new TheoryData<int, ScalarType>();
        for (int seed = 1; seed <= 20; seed++)
        {
            data.Add(seed, ScalarType.Float64);
            data.Add(seed, ScalarType.Float32);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void EveryValueMatchesTheHandComputedFormula(int seed, ScalarType type)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        int batch = 2 + rng.Next(6), classes = 3 + rng.Next(10), width = 4 + rng.Next(12);
        var loss = new DistillationLoss { Alpha = 0.1 + rng.NextDouble(), Temperature = 0.5 + 3 * rng.NextDouble() };
        Tensor studentLogits = RandomTensor(rng, new long[] { batch, classes }, scale: 3, type: type);
        Tensor teacherLogits = RandomTensor(rng, new long[] { batch, classes }, scale: 3, type: type);
        Tensor labels = RandomLabels(rng, new long[] { batch, classes });
        Tensor studentFeatures = RandomTensor(rng, new long[] { batch, width }, type: type);
        Tensor teacherFeatures = RandomTensor(rng, new long[] { batch, width }, type: type);

        using var result = loss.Compute(studentLogits, teacherLogits, labels, studentFeatures, teacherFeatures);

        double hard = RefCrossEntropyIndex(Read(studentLogits), ReadLongs(labels), classes, -100, null);
        double soft = RefKl(Read(studentLogits), Read(teacherLogits), classes, loss.Temperature);
        double feature = RefCosineDistance(Read(studentFeatures), Read(teacherFeatures), width);
        double featureScale = Math.Abs(soft) / Math.Abs(feature);
        double kd = soft + feature * featureScale;
        double kdScale = Math.Abs(hard) / Math.Abs(kd);
        double total = hard + loss.Alpha * (kd * kdScale);

        var expected = new Dictionary<string, double>
        {
            ["total"] = total, ["hard"] = hard, ["soft"] = soft, ["feature"] = feature,
            ["kd"] = kd, ["feature_scale"] = featureScale, ["kd_scale"] = kdScale,
        };
        double tolerance = type == ScalarType.Float64 ? 1e-6 : 1e-5;
        var actual = new Dictionary<string, Tensor>
        {
            ["total"] = result.Total, ["hard"] = result.Hard, ["soft"] = result.Soft, ["feature"] = result.Feature,
            ["kd"] = result.Kd, ["feature_scale"] = result.FeatureScale, ["kd_scale"] = result.KdScale,
        };
        foreach (var (key, value) in actual)
        {
            Assert.Equal(0, value.Dimensions);
            AssertClose(expected[key], value, tolerance, key);
        }

        IReadOnlyDictionary<string, double> metrics = result.Metrics();
        Assert.Equal(new SortedSet<string>(expected.Keys), new SortedSet<string>(metrics.Keys));
        foreach (var (key, value) in expected)
        {
            AssertClose(value, metrics[key], tolerance, $"metric {key}");
        }
        Assert.Same(result.Total, ((ILossResult)result).Loss);
    }

    [Fact]
    public void MetricsCarryThePrefixAndComeInTheResultsOrder()
    {
        using var scope = NewDisposeScope();
        var loss = new GivenTermsDistillation();
        using var result = loss.Compute(tensor(2.0), tensor(3.0), tensor(4.0));

        var metrics = result.Metrics();

        Assert.Equal(new[] { "distill/total", "distill/kd", "distill/feature_scale", "distill/kd_scale" }, metrics.Keys);
        // feature is balanced to soft (scale 3/4), then kd = 3 + 4·0.75 = 6 is balanced to hard (scale 2/6).
        Assert.Equal(0.75, metrics["distill/feature_scale"], 12);
        Assert.Equal(6.0, metrics["distill/kd"], 12);
        Assert.Equal(2.0 / 6.0, metrics["distill/kd_scale"], 12);
        Assert.Equal(2.0 + 0.5 * 2.0, metrics["distill/total"], 12);
    }

    [Fact]
    public void AHyperparameterIsReadOnEveryCall()
    {
        using var scope = NewDisposeScope();
        var loss = new GivenTermsDistillation { Alpha = 0.5 };
        using var first = loss.LossOnly(tensor(2.0), tensor(3.0), tensor(4.0));
        loss.Alpha = 2.0;
        using var second = loss.LossOnly(tensor(2.0), tensor(3.0), tensor(4.0));

        // total = hard + alpha·hard when every guard passes.
        Assert.Equal(3.0, first.item<double>(), 12);
        Assert.Equal(6.0, second.item<double>(), 12);
    }

    [Fact]
    public void TheExplanationListsEachStepWithItsGuard()
    {
        string explanation = DistillationLoss.ComputeExplanation;

        Assert.Equal(
            """
            Soft = Soft(studentLogits, teacherLogits)   [term, called once]
            Feature = Feature(studentFeatures, teacherFeatures)   [term, called once]
            FeatureScale = |sg(Soft)| / |sg(Feature)|, or 1 where either magnitude <= 1E-08   [no gradient]
            Kd = Soft + Feature * FeatureScale
            Hard = Hard(studentLogits, labels)   [term, called once]
            bound(Kd) = |sg(Soft)| + |sg(Feature)| * FeatureScale   [rounding bound, no gradient]
            KdScale = |sg(Hard)| / |sg(Kd)|, or 1 where either magnitude <= 1E-08; |sg(Kd)| counts as 0 within rounding of bound(Kd)   [no gradient]
            Total = Hard + Alpha * Kd * KdScale   [the loss]
            sg(x) is x with its gradient stopped: no gradient flows through a scale. No step synchronises with the host.
            """.ReplaceLineEndings("\n"),
            explanation);
    }
}
