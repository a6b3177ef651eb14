using System;
using System.IO;
using System.Linq;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// Balancing by gradients at run time, on real tensors and autograd: the values against a
/// computation by hand, what the caller's backward() then produces, evaluation without
/// gradients, and every misuse a clear error that names its culprit and changes no state.
/// </summary>
public class GradientRuntimeTests
{
    // a = Σ w², b = Σ 3w on w = [1, 2]: ∇a = 2w = [2, 4] (norm √20), ∇b = [3, 3] (norm √18).
    private static (Tensor W, Tensor A, Tensor B) Terms()
    {
        Tensor w = tensor(new[] { 1.0, 2.0 }, ScalarType.Float64).requires_grad_(true);
        return (w, w.pow(2).sum(), w.mul(3).sum());
    }

    [Fact]
    public void TheScaleIsTheRatioOfGradientNormsAndBackwardSeesOnlyTheLoss()
    {
        using var scope = NewDisposeScope();
        var (w, a, b) = Terms();
        using var result = new ParameterGradientLoss().Compute(a, b, w);

        Assert.Equal(Math.Sqrt(20) / Math.Sqrt(18), result.BScale.item<double>(), 12);
        Assert.False(result.BScale.requires_grad);
        Assert.True(w.grad is null, "taking the gradients must not accumulate into .grad");
        result.Total.backward();
        // d/dw (a + s·b) with s a constant: 2w + 3s.
        double s = result.BScale.item<double>();
        Assert.Equal(new[] { 2 + 3 * s, 4 + 3 * s }, w.grad!.data<double>().ToArray());
    }

    [Fact]
    public void MinAndMaxClampTheScale()
    {
        using var scope = NewDisposeScope();
        Tensor w = tensor(new[] { 1.0, 2.0 }, ScalarType.Float64).requires_grad_(true);
        using var result = new ParameterGradientLoss().Compute(w.pow(2).sum(), w.mul(100).sum(), w);
        Assert.Equal(0.5, result.BScale.item<double>()); // √20 / √20000 clamped to min: 0.5
    }

    [Fact]
    public void UnderNoGradItFailsNamingTheRule()
    {
        using var scope = NewDisposeScope();
        var (w, a, b) = Terms();
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            using var noGrad = no_grad();
            new ParameterGradientLoss().Compute(a, b, w).Dispose();
        });
        Assert.Contains("Balance(b, to: a, by: Gradient(weight)) takes the gradient of 'b' on 'weight', but the loss was called with autograd off", error.Message);
    }

    [Fact]
    public void ATermThatDoesNotDependOnTheParametersIsNamed()
    {
        using var scope = NewDisposeScope();
        var (w, a, _) = Terms();
        Tensor other = tensor(new[] { 5.0 }, ScalarType.Float64).requires_grad_(true);
        var unused = Assert.Throws<InvalidOperationException>(() => new ParameterGradientLoss().Compute(a, other.sum(), w).Dispose());
        Assert.Contains("'b' does not depend on 'weight': none of its 1 parameter(s) is used to compute it", unused.Message);

        var constant = Assert.Throws<InvalidOperationException>(() => new ParameterGradientLoss().Compute(a, tensor(2.0, ScalarType.Float64), w).Dispose());
        Assert.Contains("'b' does not depend on 'weight': it carries no gradient at all", constant.Message);
    }

    [Fact]
    public void ParametersThatCannotBeDifferentiatedAreNamed()
    {
        using var scope = NewDisposeScope();
        var (w, a, b) = Terms();
        var loss = new MemberGradientLoss();
        var missing = Assert.Throws<ArgumentNullException>(() => loss.Compute(a, b).Dispose());
        Assert.Equal("Network", missing.ParamName);

        var frozen = nn.Linear(2, 1);
        foreach (var parameter in frozen.parameters()) parameter.requires_grad = false;
        loss.Network = frozen;
        var none = Assert.Throws<InvalidOperationException>(() => loss.Compute(a, b).Dispose());
        Assert.Contains("'Network' has no parameter that requires grad", none.Message);
    }

    [Fact]
    public void AModulesFrozenParametersAreLeftOut()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(2, 1, dtype: ScalarType.Float64);
        layer.bias!.requires_grad = false;
        Tensor x = tensor(new[] { 1.0, 2.0 }, ScalarType.Float64);
        Tensor y = layer.forward(x).sum();
        using var result = new MemberGradientLoss { Network = layer }.Compute(y.pow(2), y.mul(2));
        // ∇_W y = x for both terms: ‖∇(y²)‖ / ‖∇(2y)‖ = |2y| ‖x‖ / (2 ‖x‖) = |y|.
        Assert.Equal(Math.Abs(y.item<double>()), result.BScale.item<double>(), 12);
        Assert.True(layer.weight!.grad is null);
    }

    [Fact]
    public void AStabilizerDividesByTheMagnitudePlusIt()
    {
        using var scope = NewDisposeScope();
        using var result = new MemberGradientLoss().Stabilized(tensor(3.0), tensor(-1.0));
        Assert.Equal(3.0 / (1.0 + 0.5), result.BScale.item<double>(), 12);
        using var zero = new MemberGradientLoss().Stabilized(tensor(3.0), tensor(0.0));
        Assert.Equal(6.0, zero.BScale.item<double>(), 12); // no eps guard: 3 / (0 + 0.5)
    }

    [Fact]
    public void AMovingAverageOfGradientNormsMatchesAComputationByHand()
    {
        using var scope = NewDisposeScope();
        Parameter p = new Parameter(tensor(new[] { 1.0, -1.0 }, ScalarType.Float64));
        var loss = new EmaGradientLoss(new[] { p });
        double mx = 0, my = 0, weight = 0;
        for (int step = 1; step <= 3; step++)
        {
            // a = step · Σ p², ∇a = 2·step·p (norm 2·step·√2); b = Σ p, ∇b = [1, 1] (norm √2).
            double na = 2 * step * Math.Sqrt(2), nb = Math.Sqrt(2);
            mx = 0.5 * mx + 0.5 * nb;
            my = 0.5 * my + 0.5 * na;
            weight = 0.5 * weight + 0.5;
            using var result = loss.Compute(p.pow(2).sum().mul(step), p.sum());
            Assert.Equal(my / mx, result.BScale.item<double>(), 12);
            Assert.True(p.grad is null);
        }
    }

    [Fact]
    public void AMovingAverageOfGradientNormsInEvaluationUnderNoGradUsesTheAverages()
    {
        using var scope = NewDisposeScope();
        Parameter p = new Parameter(tensor(new[] { 1.0, -1.0 }, ScalarType.Float64));
        var loss = new EmaGradientLoss(new[] { p });
        loss.ComputeState.eval();
        using (no_grad())
        using (var before = loss.Compute(p.pow(2).sum(), p.sum()))
        {
            Assert.Equal(1.0, before.BScale.item<double>()); // no update yet, and no gradient to take
        }
        loss.ComputeState.train();
        using (var trained = loss.Compute(p.pow(2).sum(), p.sum()))
        {
            Assert.Equal(2.0, trained.BScale.item<double>(), 12); // ‖2p‖ / ‖[1, 1]‖ = 2√2 / √2
        }
        loss.ComputeState.eval();
        using (no_grad())
        using (var evaluated = loss.Compute(p.pow(2).sum().mul(10), p.sum()))
        {
            Assert.Equal(2.0, evaluated.BScale.item<double>(), 12); // the averages, not this call's values
        }
        Assert.Throws<InvalidOperationException>(() =>
        {
            loss.ComputeState.train();
            using var noGrad = no_grad();
            loss.Compute(p.pow(2).sum(), p.sum()).Dispose(); // training needs the gradients
        });
    }

    [Fact]
    public void AnnealInEvaluationTakesNoGradientAndKeepsItsWeight()
    {
        using var scope = NewDisposeScope();
        var network = nn.Linear(1, 1, dtype: ScalarType.Float64);
        var loss = new AnnealLoss(network);
        Tensor x = tensor(new[] { 0.5 }, ScalarType.Float64);
        using (var trained = loss.Compute(network.forward(x).pow(2).sum(), network.forward(x).sum()))
        {
            Assert.NotEqual(1.0, trained.BoundaryAnnealScale.item<double>());
        }
        double weight = loss.ComputeState.Sites["anneal0"].Statistic("weight").item<double>();

        loss.ComputeState.eval();
        using (no_grad())
        using (var evaluated = loss.Compute(network.forward(x).pow(2).sum(), network.forward(x).sum()))
        {
            Assert.Equal(weight, evaluated.BoundaryAnnealScale.item<double>());
        }
        Assert.Equal(weight, loss.ComputeState.Sites["anneal0"].Statistic("weight").item<double>());
    }

    /// <summary>
    /// Balance by gradients with ema: takes its gradients on every call, also outside training, so
    /// under no_grad it fails: the error must not advise eval() for it, as it does for Anneal and GradNorm.
    /// </summary>
    [Fact]
    public void UnderNoGradInTrainingABalanceWithEmaFailsAndChangesNothing()
    {
        using var scope = NewDisposeScope();
        Parameter w = new Parameter(tensor(new[] { 1.0, 2.0 }, ScalarType.Float64));
        var loss = new EmaGradientLoss(new[] { w });
        loss.Compute(w.pow(2).sum(), w.mul(3).sum()).Dispose();
        double[] stored = loss.ComputeState.Sites["balance0"].Statistic("mx").data<double>().ToArray();
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            using var noGrad = no_grad();
            loss.Compute(w.pow(2).sum(), w.mul(3).sum()).Dispose();
        });
        Assert.Contains("Balance(b, to: a, by: Gradient(Shared)) takes the gradient of 'b' on 'Shared', but the loss was called with autograd off", error.Message);
        Assert.Contains("eval() the state", error.Message); // which works: AMovingAverageOfGradientNormsInEvaluationUnderNoGradUsesTheAverages
        Assert.Equal(stored, loss.ComputeState.Sites["balance0"].Statistic("mx").data<double>().ToArray());
    }

    [Fact]
    public void AnnealSkipsAnEstimateThatIsNotFinite()
    {
        using var scope = NewDisposeScope();
        var network = nn.Linear(1, 1, dtype: ScalarType.Float64);
        var loss = new AnnealLoss(network);
        Tensor x = tensor(new[] { 0.5 }, ScalarType.Float64);
        // The boundary term's gradient is 0 everywhere (it multiplies the output by 0): mean|∇| = 0.
        using var result = loss.Compute(network.forward(x).pow(2).sum(), network.forward(x).sum().mul(0));
        Assert.Equal(1.0, result.BoundaryAnnealScale.item<double>());
        Assert.Equal(1.0, result.SkippedUpdates.item<double>());
        Assert.Equal(1.0, loss.ComputeState.Sites["anneal0"].Statistic("weight").item<double>());
    }

    [Fact]
    public void GradNormInEvaluationUsesItsWeightsWithoutGradients()
    {
        using var scope = NewDisposeScope();
        Parameter w = new Parameter(tensor(new[] { 1.0, 2.0 }, ScalarType.Float64));
        var loss = new GradNormLoss(w);
        using (loss.Compute(w.pow(2).sum(), w.sum(), w.mul(10).sum()))
        {
        }
        Tensor stored = loss.ComputeState.Sites["gradnorm0"].Statistic("weights").clone();
        Assert.Equal(3.0, stored.sum().item<double>(), 12);

        loss.ComputeState.eval();
        using (no_grad())
        using (var evaluated = loss.Compute(w.pow(2).sum(), w.sum(), w.mul(10).sum()))
        {
            Assert.Equal(stored[0].item<double>(), evaluated.AGradNormWeight.item<double>());
        }
        Assert.Equal(stored.data<double>().ToArray(), loss.ComputeState.Sites["gradnorm0"].Statistic("weights").data<double>().ToArray());
    }

    [Fact]
    public void ACheckpointWithWeightsThatDoNotSumToTheTermsIsRejectedAndChangesNothing()
    {
        using var scope = NewDisposeScope();
        Parameter w = new Parameter(tensor(new[] { 1.0, 2.0 }, ScalarType.Float64));
        var source = new GradNormLoss(w);
        using (no_grad())
        {
            source.ComputeState.Sites["gradnorm0"].Statistic("weights").copy_(tensor(new[] { 1.0, 1.0, 2.0 }, ScalarType.Float64));
        }
        using var checkpoint = new MemoryStream();
        source.ComputeState.Save(checkpoint);
        var target = new GradNormLoss(w);
        checkpoint.Position = 0;
        var error = Assert.ThrowsAny<Exception>(() => target.ComputeState.Load(checkpoint));
        Assert.Contains("the task weights sum to the number of terms, 3", error.Message);
        Assert.Equal(new[] { 1.0, 1.0, 1.0 }, target.ComputeState.Sites["gradnorm0"].Statistic("weights").data<double>().ToArray());
    }
}
