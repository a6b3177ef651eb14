using System;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Gradients;

/// <summary>The three rules of balancing by gradients the benchmark compares.</summary>
public enum GradientRule
{
    /// <summary>VQGAN's adaptive weight: Balance(Gan, to: Rec, by: Gradient(DecoderWeight), stabilizer: 1e-4, max: 1e4).</summary>
    Vqgan,

    /// <summary>GradNorm(A, B, C, shared: TrunkWeight, alpha: 1.5, lr: 0.005).</summary>
    GradNorm,

    /// <summary>Anneal(Boundary, to: Residual, by: Gradient(Network), alpha: 0.9).</summary>
    Anneal,
}

/// <summary>
/// A network, its fixed float32 inputs and its loss's terms: what one training step of a rule
/// runs before and after the loss call. The weights come from a fixed seed, so two settings built
/// alike are the same network.
/// </summary>
public abstract class GradientSetting : IDisposable
{
    private readonly nn.Module[] _modules;
    private readonly Tensor[] _inputs;

    protected GradientSetting(nn.Module[] modules, Tensor[] inputs)
    {
        _modules = modules;
        _inputs = inputs;
    }

    /// <summary>Every parameter the step trains (its gradients are zeroed after each backward).</summary>
    public Parameter[] Parameters => _modules.SelectMany(m => m.parameters()).ToArray();

    /// <summary>Sets every gradient the step's backward wrote to none, as an optimizer's zero_grad does.</summary>
    public void ZeroGrad()
    {
        foreach (nn.Module module in _modules)
        {
            module.zero_grad();
        }
    }

    public void Dispose()
    {
        foreach (nn.Module module in _modules)
        {
            module.Dispose();
        }
        foreach (Tensor input in _inputs)
        {
            input.Dispose();
        }
    }

    protected static Linear Layer(long inputs, long outputs, long seed)
    {
        using var _ = NewDisposeScope();
        manual_seed(seed);
        return nn.Linear(inputs, outputs);
    }

    protected static Tensor Random(long seed, params long[] shape)
    {
        using var generator = new Generator((ulong)seed);
        return randn(shape, generator: generator).DetachFromDisposeScope();
    }
}

/// <summary>
/// VQGAN's setting, shrunk: an autoencoder (encoder Linear + tanh, decoder Linear whose weight W
/// the adaptive weight reads) and a linear discriminator on its reconstruction.
/// </summary>
public sealed class VqganSetting : GradientSetting
{
    public const double DiscriminatorWeight = 0.8;

    private VqganSetting(Linear encoder, Linear decoder, Linear discriminator, Tensor input)
        : base(new nn.Module[] { encoder, decoder, discriminator }, new[] { input })
    {
        Encoder = encoder;
        Decoder = decoder;
        Discriminator = discriminator;
        Input = input;
    }

    public Linear Encoder { get; }
    public Linear Decoder { get; }
    public Linear Discriminator { get; }
    public Tensor Input { get; }

    /// <summary>A batch of <paramref name="batch"/> inputs of <paramref name="features"/> features, through a <paramref name="latent"/>-wide code.</summary>
    public static VqganSetting Create(long batch, long features, long latent)
        => new(Layer(features, latent, 1), Layer(latent, features, 2), Layer(features, 1, 3), Random(4, batch, features));

    /// <summary>The reconstruction and the discriminator's logits on it, with their graph.</summary>
    public (Tensor Reconstruction, Tensor FakeLogits) Forward()
    {
        Tensor reconstruction = Decoder.forward(Encoder.forward(Input).tanh());
        return (reconstruction, Discriminator.forward(reconstruction));
    }
}

/// <summary>GradNorm's setting: a shared trunk (Linear + ReLU, its weight the shared parameter) and three linear heads regressing three targets.</summary>
public sealed class GradNormSetting : GradientSetting
{
    private GradNormSetting(Linear trunk, Linear[] heads, Tensor input, Tensor[] targets)
        : base(new nn.Module[] { trunk }.Concat(heads).ToArray(), new[] { input }.Concat(targets).ToArray())
    {
        Trunk = trunk;
        Heads = heads;
        Input = input;
        Targets = targets;
    }

    public Linear Trunk { get; }
    public Linear[] Heads { get; }
    public Tensor Input { get; }
    public Tensor[] Targets { get; }

    public static GradNormSetting Create(long batch, long features, long hidden, long outputs)
        => new(Layer(features, hidden, 11), Enumerable.Range(0, 3).Select(i => Layer(hidden, outputs, 12 + i)).ToArray(),
            Random(15, batch, features), Enumerable.Range(0, 3).Select(i => Random(16 + i, batch, outputs).mul_(i + 1)).ToArray());

    /// <summary>The three task losses A, B, C (mean squared errors of the heads), with their graph.</summary>
    public (Tensor A, Tensor B, Tensor C) Forward()
    {
        Tensor shared = Trunk.forward(Input).relu();
        Tensor Task(int i) => (Heads[i].forward(shared) - Targets[i]).pow(2).mean();
        return (Task(0), Task(1), Task(2));
    }
}

/// <summary>
/// Annealing's setting, a stand-in for a physics-informed network: an MLP (Linear, tanh, Linear,
/// tanh, Linear) fitted on interior points (the residual term) and on boundary points (the
/// boundary term), both mean squared errors; the rule reads the gradients on all its parameters.
/// </summary>
public sealed class AnnealSetting : GradientSetting
{
    private AnnealSetting(Sequential network, Tensor interior, Tensor interiorTarget, Tensor boundary, Tensor boundaryTarget)
        : base(new nn.Module[] { network }, new[] { interior, interiorTarget, boundary, boundaryTarget })
    {
        Network = network;
        Interior = interior;
        InteriorTarget = interiorTarget;
        Boundary = boundary;
        BoundaryTarget = boundaryTarget;
    }

    public Sequential Network { get; }
    public Tensor Interior { get; }
    public Tensor InteriorTarget { get; }
    public Tensor Boundary { get; }
    public Tensor BoundaryTarget { get; }

    public static AnnealSetting Create(long interior, long boundary, long hidden)
        => new(nn.Sequential(Layer(2, hidden, 21), nn.Tanh(), Layer(hidden, hidden, 22), nn.Tanh(), Layer(hidden, 1, 23)),
            Random(24, interior, 2), Random(25, interior, 1), Random(26, boundary, 2), Random(27, boundary, 1));

    /// <summary>The residual and boundary terms, with their graph.</summary>
    public (Tensor Residual, Tensor Boundary) Forward()
        => ((Network.forward(Interior) - InteriorTarget).pow(2).mean(), (Network.forward(Boundary) - BoundaryTarget).pow(2).mean());
}
