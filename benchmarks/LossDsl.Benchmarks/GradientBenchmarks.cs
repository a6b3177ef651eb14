using BenchmarkDotNet.Attributes;
using LossDsl.Benchmarks.Gradients;
using TorchSharp;

namespace LossDsl.Benchmarks;

/// <summary>
/// Balancing by gradients (issue 14): one training step (forward, the loss, backward, zeroing the
/// gradients) with the generated loss against the same step with the hand-written expert loss (the
/// baseline), per rule. The steps differ only in the loss call.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(HotPathConfig))]
public class GradientBenchmarks
{
    private GradientCase _case = null!;

    [Params(GradientRule.Vqgan, GradientRule.GradNorm, GradientRule.Anneal)]
    public GradientRule Rule { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // One libtorch thread: on this shared 2-core machine, two threads spin at OpenMP barriers
        // whenever another process holds a core, and iterations of the same step then ranged from
        // 3.6 to 224 ms (README, "Balancing by gradients"). The losses differ in the ops they
        // dispatch, which one thread measures as well.
        torch.set_num_threads(1);
        _case = GradientCase.Create(Rule);
        // Warm libtorch's allocator and thread pool with both, so the first benchmark does not pay for the second.
        for (int i = 0; i < 20; i++)
        {
            _case.Step(generated: false);
            _case.Step(generated: true);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _case.Dispose();

    [Benchmark(Baseline = true)]
    public void Expert() => _case.Step(generated: false);

    [Benchmark]
    public void Generated() => _case.Step(generated: true);
}
