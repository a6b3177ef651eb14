using System;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiTask;

/// <summary>
/// Three tasks on the same inputs, made in-process from a seed (no download). Each example has a
/// hidden latent <c>z</c> (<see cref="Latents"/> values); the input is a fixed random mixing of
/// <c>z</c> into <see cref="Inputs"/> values plus noise (about unit variance). From the same
/// <c>z</c>:
/// <list type="bullet">
/// <item><b>class</b>: one of <see cref="Classes"/> labels, sampled from the softmax of a fixed
/// random two-layer network (the classes overlap: no model reaches 100 %);</item>
/// <item><b>regression</b>: a smooth nonlinear function of <c>z</c> times
/// <see cref="RegressionScale"/>, plus noise (an MSE in the hundreds at first);</item>
/// <item><b>reconstruction</b>: the input itself times <see cref="ReconstructionScale"/> (an MSE
/// of about 0.01 at first), through the trunk's narrow last layer.</item>
/// </list>
/// </summary>
public sealed class SyntheticTasks : IDisposable
{
    public const int Inputs = 32;
    public const int Latents = 8;
    public const int Classes = 10;
    public const int TrainExamples = 2048;
    public const int TestExamples = 2048;

    /// <summary>Scale of the labelling network's logits: higher makes labels less noisy.</summary>
    public const double Sharpness = 6.0;

    /// <summary>The regression target's scale: its MSE dwarfs the other losses.</summary>
    public const double RegressionScale = 20.0;

    /// <summary>The reconstruction target's scale: its MSE is dwarfed by the other losses.</summary>
    public const double ReconstructionScale = 0.1;

    private SyntheticTasks(Split train, Split test)
    {
        Train = train;
        Test = test;
    }

    public Split Train { get; }
    public Split Test { get; }

    /// <summary>One set of examples: inputs, labels, regression targets and reconstruction targets.</summary>
    public sealed record Split(Tensor X, Tensor Labels, Tensor Target, Tensor Original) : IDisposable
    {
        public void Dispose()
        {
            X.Dispose();
            Labels.Dispose();
            Target.Dispose();
            Original.Dispose();
        }
    }

    public static SyntheticTasks Create(int seed, Device device)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        Tensor mixing = randn(new long[] { Latents, Inputs }, generator: generator) / Math.Sqrt(Latents);
        Tensor w1 = randn(new long[] { Latents, 32 }, generator: generator) / Math.Sqrt(Latents);
        Tensor w2 = randn(new long[] { 32, Classes }, generator: generator) * Sharpness / Math.Sqrt(32);
        Tensor u = randn(new long[] { Latents, 1 }, generator: generator) / Math.Sqrt(Latents);
        Tensor v = randn(new long[] { Latents, 1 }, generator: generator) / Math.Sqrt(Latents);

        Split Sample(int count)
        {
            Tensor z = randn(new long[] { count, Latents }, generator: generator);
            Tensor x = z.matmul(mixing).add(randn(new long[] { count, Inputs }, generator: generator), alpha: 0.1);
            Tensor probabilities = softmax(tanh(z.matmul(w1)).matmul(w2), 1);
            Tensor labels = multinomial(probabilities, 1, generator: generator).squeeze(1);
            Tensor zu = z.matmul(u), zv = z.matmul(v);
            Tensor target = sin(zu.mul(2)).add(zv.mul(tanh(zu))).add(randn(new long[] { count, 1 }, generator: generator), alpha: 0.1).mul(RegressionScale);
            var split = new Split(x.to(device), labels.to(device), target.to(device), x.mul(ReconstructionScale).to(device));
            scope.MoveToOuter(split.X, split.Labels, split.Target);
            scope.MoveToOuter(split.Original);
            return split;
        }
        return new SyntheticTasks(Sample(TrainExamples), Sample(TestExamples));
    }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
