using System;
using BenchmarkDotNet.Attributes;
using LossDsl.Benchmarks.HotPath;
using TorchSharp;

namespace LossDsl.Benchmarks;

/// <summary>
/// The README's distillation loss four ways, in two regimes: median time relative to the hand-written
/// expert (the baseline), and managed allocations. Each call's result is disposed in the call.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(HotPathConfig))]
public class HotPathBenchmarks
{
    private HotPathInputs _inputs = null!;
    private Implementations _implementations = null!;

    [Params(Regime.Combination, Regime.Full)]
    public Regime Regime { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        _inputs = Regime == Regime.Full ? HotPathInputs.Realistic() : HotPathInputs.Tiny();
        _implementations = new Implementations(_inputs);
        // Warm libtorch's allocator and thread pool with every implementation, so the first
        // benchmark of a regime does not pay for what the later ones get for free.
        for (int i = 0; i < 5; i++)
        {
            _implementations.Expert(Regime).Dispose();
            _implementations.Generated(Regime).Dispose();
            _implementations.Naive(Regime).Dispose();
            _implementations.Interpreted(Regime).Dispose();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _inputs.Dispose();

    [Benchmark(Baseline = true)]
    public void Expert() => _implementations.Expert(Regime).Dispose();

    [Benchmark]
    public void Generated() => _implementations.Generated(Regime).Dispose();

    [Benchmark]
    public void Naive() => _implementations.Naive(Regime).Dispose();

    [Benchmark]
    public void Interpreted() => _implementations.Interpreted(Regime).Dispose();
}
