using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using LossDsl.Benchmarks.HotPath;
using LossDsl.Testing;
using TorchSharp;

namespace LossDsl.Benchmarks;

/// <summary>Logging every value of the result: Metrics() in one transfer against one item() per value.</summary>
[MemoryDiagnoser]
[Config(typeof(InProcessConfig))]
public class MetricsBenchmarks
{
    private HotPathInputs _inputs = null!;
    private DistillationLossResult _result = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inputs = HotPathInputs.Tiny();
        _result = new DistillationLoss().Compute(_inputs.StudentLogits, _inputs.TeacherLogits, _inputs.Labels, _inputs.StudentFeatures, _inputs.TeacherFeatures);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _result.Dispose();
        _inputs.Dispose();
    }

    [Benchmark(Baseline = true)]
    public IReadOnlyDictionary<string, double> ItemPerValue() => new Dictionary<string, double>
    {
        ["total"] = _result.Total.item<float>(),
        ["soft"] = _result.Soft.item<float>(),
        ["feature"] = _result.Feature.item<float>(),
        ["hard"] = _result.Hard.item<float>(),
        ["kd"] = _result.Kd.item<float>(),
        ["feature_scale"] = _result.FeatureScale.item<float>(),
        ["kd_scale"] = _result.KdScale.item<float>(),
    };

    [Benchmark]
    public IReadOnlyDictionary<string, double> MetricsInOneTransfer() => _result.Metrics();
}
