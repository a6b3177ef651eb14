using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Gradients;

/// <summary>What the hand-written losses return: the loss and the values the generated result holds beside it.</summary>
public sealed class ExpertGradientResult(Tensor total, params Tensor[] values) : IDisposable
{
    public Tensor Total { get; } = total;

    /// <summary>The other values, in the order of the generated result's properties after Total.</summary>
    public Tensor[] Values { get; } = values;

    public void Dispose()
    {
        Total.Dispose();
        foreach (Tensor value in Values)
        {
            value.Dispose();
        }
    }
}

/// <summary>
/// VQGAN's adaptive weight by hand, as a careful TorchSharp engineer writes it (the rule of
/// taming-transformers' calculate_adaptive_weight): each term's gradient on W by autograd.grad
/// with retain_graph (nothing reaches .grad, the graph stays for backward), the norms, ratio and
/// clamp under no_grad, the balanced sum fused into addcmul, the parameter list built once,
/// every intermediate in a dispose scope, no host synchronisation.
/// Returns Total, then Rec, Gan and the scale.
/// </summary>
public sealed class ExpertVqgan(Parameter decoderWeight)
{
    private readonly Tensor[] _weight = { decoderWeight };

    public double DiscriminatorWeight { get; set; } = VqganSetting.DiscriminatorWeight;

    public ExpertGradientResult Compute(Tensor reconstruction, Tensor input, Tensor fakeLogits)
    {
        using var scope = NewDisposeScope();
        Tensor rec = (reconstruction - input).pow(2).mean();
        Tensor gan = fakeLogits.mean().neg();
        Tensor ganGradient = autograd.grad(new[] { gan }, _weight, retain_graph: true)[0];
        Tensor recGradient = autograd.grad(new[] { rec }, _weight, retain_graph: true)[0];
        Tensor scale;
        using (no_grad())
        {
            scale = linalg.vector_norm(recGradient).div_(linalg.vector_norm(ganGradient).add_(1e-4)).clamp_max_(1e4);
        }
        Tensor total = rec.addcmul(gan, scale, DiscriminatorWeight);
        var result = new ExpertGradientResult(total, rec, gan, scale);
        scope.MoveToOuter(total, rec, gan);
        scope.MoveToOuter(scale);
        return result;
    }
}

/// <summary>
/// GradNorm (Chen et al. 2018) by hand, the same rule as LossDsl's: the weights (float64, initially
/// 1) as they are before the call weight the total; each term's gradient norm on the shared weight
/// by autograd.grad with retain_graph; one SGD step of size lr on Σ|Gᵢ − Ḡ rᵢ^α|, renormalised to
/// sum to 3, taken only when every initial loss is captured and the weights stay finite and
/// positive (else counted as skipped); the state updated in place, all under no_grad, in a dispose
/// scope, without host synchronisation. Returns Total, then the three weights and the skipped count.
/// </summary>
public sealed class ExpertGradNorm(Parameter trunkWeight, double alpha = 1.5, double lr = 0.005) : IDisposable
{
    private readonly Tensor[] _shared = { trunkWeight };
    private readonly Tensor _weights = ones(3, ScalarType.Float64).DetachFromDisposeScope();
    private readonly Tensor _initial = zeros(3, ScalarType.Float64).DetachFromDisposeScope();
    private readonly Tensor _skipped = zeros(Array.Empty<long>(), ScalarType.Float64).DetachFromDisposeScope();

    public ExpertGradientResult Compute(Tensor a, Tensor b, Tensor c)
    {
        using var scope = NewDisposeScope();
        Tensor[] losses = { a, b, c };
        Tensor values = stack(losses);
        Tensor[] gradients = losses.Select(loss => autograd.grad(new[] { loss }, _shared, retain_graph: true)[0]).ToArray();
        Tensor used, skipped;
        using (no_grad())
        {
            used = _weights.to(values.dtype, copy: true);
            Tensor observed = values.to(ScalarType.Float64);
            Tensor g = stack(gradients.Select(gradient => linalg.vector_norm(gradient))).to(ScalarType.Float64);
            Tensor capturable = observed.gt(0).logical_and_(observed.isfinite());
            Tensor initial = where(_initial.gt(0), _initial, where(capturable, observed, zeros_like(_initial)));
            Tensor ratio = observed.div(initial);
            Tensor relative = ratio.div(ratio.mean());
            Tensor weighted = _weights.mul(g);
            Tensor target = weighted.mean().mul(relative.pow_(alpha));
            Tensor next = _weights.sub(weighted.sub_(target).sign_().mul_(g).mul_(lr));
            next = next.mul(losses.Length).div_(next.sum());
            Tensor taken = initial.gt(0).all().logical_and_(next.isfinite().all()).logical_and_(next.gt(0).all());
            skipped = _skipped.add(taken.logical_not().to(ScalarType.Float64));
            _initial.copy_(initial);
            _weights.copy_(where(taken, next, _weights));
            _skipped.copy_(skipped);
        }
        Tensor total = values.mul(used).sum();
        Tensor[] weights = used.unbind(0);
        var result = new ExpertGradientResult(total, weights[0], weights[1], weights[2], skipped);
        scope.MoveToOuter(total, weights[0], weights[1]);
        scope.MoveToOuter(weights[2], skipped);
        return result;
    }

    public void Dispose()
    {
        _weights.Dispose();
        _initial.Dispose();
        _skipped.Dispose();
    }
}

/// <summary>
/// Learning-rate annealing (Wang et al. 2021, Algorithm 1) by hand, the same rule as LossDsl's:
/// λ̂ = max|∇_P Residual| / mean|∇_P Boundary| over every trainable parameter of the network,
/// λ ← (1 − α)λ + αλ̂ (λ float64, initially 1), a non-finite λ̂ leaving λ as it was (counted as
/// skipped), the total Residual + λ·Boundary; both gradients by autograd.grad with retain_graph,
/// the statistics under no_grad, the parameter list built once, in a dispose scope, without host
/// synchronisation. Returns Total, then the scale and the skipped count.
/// </summary>
public sealed class ExpertAnneal(nn.Module network, double alpha = 0.9) : IDisposable
{
    private readonly Tensor[] _parameters = network.parameters().Where(p => p.requires_grad).ToArray<Tensor>();
    private readonly double _elements = network.parameters().Where(p => p.requires_grad).Sum(p => (double)p.numel());
    private readonly Tensor _weight = ones(Array.Empty<long>(), ScalarType.Float64).DetachFromDisposeScope();
    private readonly Tensor _skipped = zeros(Array.Empty<long>(), ScalarType.Float64).DetachFromDisposeScope();

    public ExpertGradientResult Compute(Tensor residual, Tensor boundary)
    {
        using var scope = NewDisposeScope();
        IList<Tensor> residualGradients = autograd.grad(new[] { residual }, _parameters, retain_graph: true);
        IList<Tensor> boundaryGradients = autograd.grad(new[] { boundary }, _parameters, retain_graph: true);
        Tensor scale, skipped;
        using (no_grad())
        {
            Tensor largest = stack(residualGradients.Select(g => g.abs().max())).max();
            Tensor average = stack(boundaryGradients.Select(g => g.abs().sum())).sum().div_(_elements);
            Tensor next = _weight.mul(1 - alpha).add_(largest.to(ScalarType.Float64).div_(average.to(ScalarType.Float64)), alpha);
            Tensor taken = next.isfinite();
            Tensor weight = where(taken, next, _weight);
            skipped = _skipped.add(taken.logical_not().to(ScalarType.Float64));
            _weight.copy_(weight);
            _skipped.copy_(skipped);
            scale = weight.to(boundary.dtype);
        }
        Tensor total = residual.addcmul(boundary, scale, 1.0);
        var result = new ExpertGradientResult(total, scale, skipped);
        scope.MoveToOuter(total, scale, skipped);
        return result;
    }

    public void Dispose()
    {
        _weight.Dispose();
        _skipped.Dispose();
    }
}
