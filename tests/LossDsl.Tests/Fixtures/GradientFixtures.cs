using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

// Balancing by gradients, each rule as the fixture of tests/reference/make_gradient_fixtures.py
// writes it (its "formula"), on the networks the tests build from the fixture's weights.

/// <summary>VQGAN's adaptive weight (Esser et al. 2021): the gradients are taken on the decoder's last layer.</summary>
public partial class VqganLoss(Parameter decoderWeight)
{
    /// <summary>The decoder's last layer's weight, which the two gradients are compared on.</summary>
    public Parameter DecoderWeight { get; } = decoderWeight;

    public double DiscriminatorWeight { get; set; } = 0.8;

    [Term]
    public static Tensor Rec(Tensor reconstruction, Tensor input) => (reconstruction - input).pow(2).mean();

    [Term]
    public static Tensor Gan(Tensor fakeLogits) => fakeLogits.mean().neg();

    [Loss("Total = Rec + DiscriminatorWeight * Balance(Gan, to: Rec, by: Gradient(DecoderWeight), stabilizer: 1e-4, max: 1e4)")]
    public partial VqganResult Compute(Tensor reconstruction, Tensor input, Tensor fakeLogits);
}

/// <summary>GradNorm (Chen et al. 2018) over three task losses the caller computed, on the trunk's weight.</summary>
public partial class GradNormLoss(Parameter trunkWeight)
{
    public Parameter TrunkWeight { get; } = trunkWeight;

    [Loss("Total = GradNorm(A, B, C, shared: TrunkWeight, alpha: 1.5, lr: 0.005)")]
    public partial GradNormResult Compute(Tensor A, Tensor B, Tensor C);
}

/// <summary>Learning-rate annealing for physics-informed networks (Wang et al. 2021), on every parameter of the network.</summary>
public partial class AnnealLoss(nn.Module network)
{
    public nn.Module Network { get; } = network;

    [Loss("Total = Residual + Anneal(Boundary, to: Residual, by: Gradient(Network), alpha: 0.9)")]
    public partial AnnealResult Compute(Tensor Residual, Tensor Boundary);
}

/// <summary>Balance by the gradients on an enumerable of parameters, with a moving average.</summary>
public partial class EmaGradientLoss(IEnumerable<Parameter> shared)
{
    public IEnumerable<Parameter> Shared { get; } = shared;

    [Loss("Total = a + Balance(b, to: a, by: Gradient(Shared), ema: 0.5)")]
    public partial EmaGradientResult Compute(Tensor a, Tensor b);
}

/// <summary>Balance by the gradients on a Tensor parameter of the [Loss] method, with the eps guard.</summary>
public partial class ParameterGradientLoss
{
    [Loss("Total = a + Balance(b, to: a, by: Gradient(weight), min: 0.5, max: 4)")]
    public partial ParameterGradientResult Compute(Tensor a, Tensor b, Tensor weight);
}

/// <summary>Balance by gradients on a member that may be null or frozen, and with a stabilizer on magnitudes.</summary>
public partial class MemberGradientLoss
{
    public nn.Module? Network { get; set; }

    [Loss("Total = a + Balance(b, to: a, by: Gradient(Network))")]
    public partial MemberGradientResult Compute(Tensor a, Tensor b);

    [Loss("Total = a + Balance(b, to: a, stabilizer: 0.5)")]
    public partial StabilizedResult Stabilized(Tensor a, Tensor b);
}
