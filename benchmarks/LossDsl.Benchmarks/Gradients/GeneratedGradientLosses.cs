using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Gradients;

/// <summary>
/// VQGAN's adaptive weight (Esser et al. 2021) as a formula, as the test fixture writes it: the two
/// gradients are taken on the decoder's last weight.
/// </summary>
public partial class GeneratedVqgan(Parameter decoderWeight)
{
    /// <summary>The decoder's last weight, which the two gradients are compared on.</summary>
    public Parameter DecoderWeight { get; } = decoderWeight;

    public double DiscriminatorWeight { get; set; } = VqganSetting.DiscriminatorWeight;

    [Term]
    public static Tensor Rec(Tensor reconstruction, Tensor input) => (reconstruction - input).pow(2).mean();

    [Term]
    public static Tensor Gan(Tensor fakeLogits) => fakeLogits.mean().neg();

    [Loss("Total = Rec + DiscriminatorWeight * Balance(Gan, to: Rec, by: Gradient(DecoderWeight), stabilizer: 1e-4, max: 1e4)")]
    public partial GeneratedVqganResult Compute(Tensor reconstruction, Tensor input, Tensor fakeLogits);
}

/// <summary>GradNorm (Chen et al. 2018) over three task losses the caller computed, on the shared trunk's weight.</summary>
public partial class GeneratedGradNorm(Parameter trunkWeight)
{
    /// <summary>The shared trunk's weight, on which the three gradient norms are taken.</summary>
    public Parameter TrunkWeight { get; } = trunkWeight;

    [Loss("Total = GradNorm(A, B, C, shared: TrunkWeight, alpha: 1.5, lr: 0.005)")]
    public partial GeneratedGradNormResult Compute(Tensor A, Tensor B, Tensor C);
}

/// <summary>Learning-rate annealing (Wang et al. 2021) on every parameter of a network, over two losses the caller computed.</summary>
public partial class GeneratedAnneal(nn.Module network)
{
    /// <summary>The network whose trainable parameters the two gradients are taken on.</summary>
    public nn.Module Network { get; } = network;

    [Loss("Total = Residual + Anneal(Boundary, to: Residual, by: Gradient(Network), alpha: 0.9)")]
    public partial GeneratedAnnealResult Compute(Tensor Residual, Tensor Boundary);
}
