using LossDsl;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTask.Objectives;

/// <summary>
/// The three task losses of the shared-trunk network, and six ways of weighing them, one
/// <c>[Loss]</c> method each. The terms differ in magnitude by orders: the regression's MSE is in
/// the hundreds at first, the classification's cross-entropy about 2, the reconstruction's MSE
/// about 0.01. Use one object per training run: the stateful methods keep their state in it.
/// </summary>
public partial class MultiTaskLoss(SharedTrunkNetwork network)
{
    /// <summary>
    /// The weight of the trunk's last shared layer, on which GradNorm compares the tasks' gradients;
    /// read on every call, so it is the network's current parameter even after <c>to(device)</c>.
    /// </summary>
    public Parameter SharedWeight => network.SharedWeight;

    [Term] Tensor Classification(Tensor logits, Tensor labels)
        => Losses.CrossEntropy(logits, labels);

    [Term] Tensor Regression(Tensor prediction, Tensor target)
        => Losses.Mse(prediction, target);

    [Term] Tensor Reconstruction(Tensor reconstructed, Tensor original)
        => Losses.Mse(reconstructed, original);

    /// <summary>The baseline: every task weighs 1.</summary>
    [Loss("Total = Classification + Regression + Reconstruction", MetricsPrefix = "loss/")]
    public partial EqualWeightsResult EqualWeights(Tensor logits, Tensor labels, Tensor prediction, Tensor target, Tensor reconstructed, Tensor original);

    /// <summary>Kendall, Gal and Cipolla (2018): a learnable log-variance per task; the optimizer must have <see cref="UncertaintyWeightingState"/>'s parameters.</summary>
    [Loss("Total = Uncertainty(Classification, Regression, Reconstruction)", MetricsPrefix = "loss/")]
    public partial UncertaintyWeightingResult UncertaintyWeighting(Tensor logits, Tensor labels, Tensor prediction, Tensor target, Tensor reconstructed, Tensor original);

    /// <summary>Liu, Johns and Davison (2019): weights from the rate at which each loss falls, over windows of 8 steps.</summary>
    [Loss("Total = Dwa(Classification, Regression, Reconstruction, temperature: 2, window: 8)", MetricsPrefix = "loss/")]
    public partial DwaWeightingResult DwaWeighting(Tensor logits, Tensor labels, Tensor prediction, Tensor target, Tensor reconstructed, Tensor original);

    /// <summary>Groenendijk et al. (2021): weights from each loss's coefficient of variation.</summary>
    [Loss("Total = CoV(Classification, Regression, Reconstruction)", MetricsPrefix = "loss/")]
    public partial CovWeightingResult CovWeighting(Tensor logits, Tensor labels, Tensor prediction, Tensor target, Tensor reconstructed, Tensor original);

    /// <summary>Magnitude balancing: the regression and the reconstruction scaled to the classification's magnitude at every step.</summary>
    [Loss("Total = Classification + Balance(Regression, to: Classification) + Balance(Reconstruction, to: Classification)", MetricsPrefix = "loss/")]
    public partial MagnitudeBalanceResult MagnitudeBalance(Tensor logits, Tensor labels, Tensor prediction, Tensor target, Tensor reconstructed, Tensor original);

    /// <summary>Chen et al. (2018): weights that equalise the tasks' training rates through their gradient norms on <see cref="SharedWeight"/>.</summary>
    [Loss("Total = GradNorm(Classification, Regression, Reconstruction, shared: SharedWeight, alpha: 1.5, lr: 0.001)", MetricsPrefix = "loss/")]
    public partial GradNormWeightingResult GradNormWeighting(Tensor logits, Tensor labels, Tensor prediction, Tensor target, Tensor reconstructed, Tensor original);
}
