using System;
using LossDsl.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

/// <summary>The two regimes of the hot-path benchmarks.</summary>
public enum Regime
{
    /// <summary>Terms given as precomputed 0-dim tensors: the cost is the balancing itself.</summary>
    Combination,

    /// <summary>Realistic terms from logits and features: cross-entropy, KL and cosine distance, then the balancing.</summary>
    Full,
}

/// <summary>
/// Inputs for one regime, made once from a seed and kept alive for the whole benchmark:
/// logits batch × sequence × vocabulary, features layers × batch × sequence × width.
/// </summary>
public sealed class HotPathInputs : IDisposable
{
    public const double Alpha = 0.5;
    public const double Temperature = 2.0;
    public const string Formula = """
        Kd = soft + Balance(feature, to: soft)
        Total = hard + Alpha * Balance(Kd, to: hard)
        """;

    public HotPathInputs(int batch, int sequence, int vocabulary, int layers, int width, bool requiresGrad = true)
    {
        manual_seed(7);
        StudentLogits = randn(batch, sequence, vocabulary).requires_grad_(requiresGrad);
        TeacherLogits = randn(batch, sequence, vocabulary);
        Labels = randint(vocabulary, new long[] { batch, sequence });
        StudentFeatures = randn(layers, batch, sequence, width).requires_grad_(requiresGrad);
        TeacherFeatures = randn(layers, batch, sequence, width);
        // Precomputed terms with autograd, as a training step would hand them over.
        Hard = tensor(2.3f).requires_grad_(requiresGrad);
        Soft = tensor(0.8f).requires_grad_(requiresGrad);
        Feature = tensor(0.4f).requires_grad_(requiresGrad);
    }

    /// <summary>
    /// The sizes the benchmarks use: 8 × 128 × 4096 logits and 4 × 8 × 128 × 512 features. A
    /// vocabulary of 4096 keeps each logits-sized buffer (16 MB) under glibc's largest mmap
    /// threshold (32 MB), so libtorch's CPU allocations are reused from the heap instead of being
    /// mapped and unmapped on every call, which made 8192 (33.5 MB buffers) too noisy to compare.
    /// </summary>
    public static HotPathInputs Realistic() => new(8, 128, 4096, 4, 512);

    /// <summary>Tiny sizes for counting tensors over many calls (counts do not depend on sizes).</summary>
    public static HotPathInputs Tiny() => new(2, 4, 16, 2, 8);

    public Tensor StudentLogits { get; }
    public Tensor TeacherLogits { get; }
    public Tensor Labels { get; }
    public Tensor StudentFeatures { get; }
    public Tensor TeacherFeatures { get; }
    public Tensor Hard { get; }
    public Tensor Soft { get; }
    public Tensor Feature { get; }

    public void Dispose()
    {
        foreach (Tensor t in new[] { StudentLogits, TeacherLogits, Labels, StudentFeatures, TeacherFeatures, Hard, Soft, Feature })
        {
            t.Dispose();
        }
    }
}

/// <summary>The four implementations, each as one call that returns what it computed, for both regimes.</summary>
public sealed class Implementations(HotPathInputs inputs)
{
    private readonly DistillationLoss _generated = new() { Alpha = HotPathInputs.Alpha, Temperature = HotPathInputs.Temperature };
    private readonly GeneratedCombination _generatedCombination = new() { Alpha = HotPathInputs.Alpha };
    private readonly InterpretedLoss _interpreted = new(HotPathInputs.Formula);
    private readonly System.Collections.Generic.Dictionary<string, double> _numbers = new() { ["Alpha"] = HotPathInputs.Alpha };

    public IDisposable Generated(Regime regime) => regime == Regime.Full
        ? _generated.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, inputs.StudentFeatures, inputs.TeacherFeatures)
        : _generatedCombination.Compute(inputs.Hard, inputs.Soft, inputs.Feature);

    public IDisposable Expert(Regime regime) => regime == Regime.Full
        ? ExpertDistillation.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, inputs.StudentFeatures, inputs.TeacherFeatures, HotPathInputs.Alpha, HotPathInputs.Temperature)
        : ExpertDistillation.Combine(inputs.Hard, inputs.Soft, inputs.Feature, HotPathInputs.Alpha);

    /// <summary>The naive loss returns only the total; its intermediates are left to the garbage collector.</summary>
    public IDisposable Naive(Regime regime) => regime == Regime.Full
        ? NaiveDistillation.Compute(inputs.StudentLogits, inputs.TeacherLogits, inputs.Labels, inputs.StudentFeatures, inputs.TeacherFeatures, HotPathInputs.Alpha, HotPathInputs.Temperature)
        : NaiveDistillation.Combine(inputs.Hard, inputs.Soft, inputs.Feature, HotPathInputs.Alpha);

    public IDisposable Interpreted(Regime regime)
    {
        var terms = regime == Regime.Full
            ? new System.Collections.Generic.Dictionary<string, Func<Tensor>>
            {
                ["hard"] = () => Losses.CrossEntropy(inputs.StudentLogits, inputs.Labels),
                ["soft"] = () => Losses.SoftTargetKl(inputs.StudentLogits, inputs.TeacherLogits, HotPathInputs.Temperature),
                ["feature"] = () => Losses.CosineDistance(inputs.StudentFeatures, inputs.TeacherFeatures),
            }
            : new System.Collections.Generic.Dictionary<string, Func<Tensor>>
            {
                // Given tensors are aliased so the interpreter may own (and dispose) every value it returns.
                ["hard"] = () => inputs.Hard.alias(),
                ["soft"] = () => inputs.Soft.alias(),
                ["feature"] = () => inputs.Feature.alias(),
            };
        return new Values(_interpreted.Evaluate(terms, _numbers));
    }

    private sealed class Values(System.Collections.Generic.Dictionary<string, Tensor> values) : IDisposable
    {
        public void Dispose()
        {
            foreach (Tensor value in values.Values)
            {
                value.Dispose();
            }
        }
    }
}
