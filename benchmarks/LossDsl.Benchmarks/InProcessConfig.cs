using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace LossDsl.Benchmarks;

/// <summary>
/// Runs in the benchmark process: BenchmarkDotNet's default toolchain would build a copy of this
/// project (and of libtorch) for every run. Few iterations: each operation takes milliseconds.
/// </summary>
public class InProcessConfig : ManualConfig
{
    public InProcessConfig() : this(warmups: 3, iterations: 10)
    {
    }

    protected InProcessConfig(int warmups, int iterations)
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(warmups)
            .WithIterationCount(iterations)
            .WithId("InProcess"));
        // The figure is the median ratio; the mean is kept beside it.
        AddColumn(StatisticColumn.Median);
    }
}

/// <summary>More iterations for the hot path, whose ratios are compared at a 2 % margin on a shared machine.</summary>
public sealed class HotPathConfig : InProcessConfig
{
    public HotPathConfig() : base(warmups: 5, iterations: 30)
    {
    }
}
