using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl;

public static partial class Losses
{
    /// <summary>The eps of <see cref="CosineDistance"/>: each norm is at least this, as in <c>cosine_similarity</c>.</summary>
    private const double CosineEps = 1e-8;

    /// <summary>
    /// <see cref="CosineDistance"/> with a closed-form backward. Forward: â = a / max(‖a‖, eps) and b̂ likewise, along
    /// the last dimension, cos = Σ â b̂ and the loss Σ (1 − cos) / N, as libtorch's <c>cosine_similarity</c> computes
    /// it. Backward: ∂cos/∂a = b̂ / max(‖a‖, eps) − cos â / ‖a‖ (0 where a is 0), the gradient autograd takes of that
    /// formula (whose clamp of the norm carries no gradient), and likewise for b: two passes over each input that needs
    /// a gradient, where autograd takes about eight. It saves â and b̂, tensors of its own, so that an input changed in
    /// place after the forward changes nothing.
    /// </summary>
    private sealed class CosineDistanceFunction : torch.autograd.SingleTensorFunction<CosineDistanceFunction>
    {
        /// <inheritdoc/>
        public override string Name => "LossDsl.CosineDistance";

        /// <summary>Arguments: a and b (views of the caller's tensors), and the compute type.</summary>
        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var a = (Tensor)vars[0];
            var b = (Tensor)vars[1];
            var rows = new CosineRows(a, b, (ScalarType)vars[2]);
            ctx.save_for_backward(new List<Tensor> { rows.AUnit, rows.BUnit, rows.ANorm, rows.BNorm, rows.Cosine });
            ctx.save_data("state", new CosineState(a.requires_grad, b.requires_grad, a.dtype, b.dtype, rows.Positions));
            return rows.Loss;
        }

        /// <inheritdoc/>
        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            var state = (CosineState)ctx.get_data("state");
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var (aUnit, bUnit, aNorm, bNorm, cosine) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
            // ∂(1 − cos)/∂a × g / N = â (cos g / (N ‖a‖)) − b̂ (g / (N max(‖a‖, eps))), per row.
            var incoming = grad_output.div((double)state.Positions);
            Tensor? aGradient = state.ANeedsGradient ? Gradient(aUnit, aNorm, bUnit, cosine, incoming, state.AType) : null;
            Tensor? bGradient = state.BNeedsGradient ? Gradient(bUnit, bNorm, aUnit, cosine, incoming, state.BType) : null;
            return new List<Tensor>
            {
                aGradient is null ? null! : scope.MoveToOuter(aGradient),
                bGradient is null ? null! : scope.MoveToOuter(bGradient),
                null!,
            };
        }

        /// <summary>The gradient with respect to one input (<paramref name="unit"/> is its unit vectors) in its dtype.</summary>
        private static Tensor Gradient(Tensor unit, Tensor norm, Tensor otherUnit, Tensor cosine, Tensor incoming, ScalarType type)
        {
            // cos / ‖x‖, 0 where x is 0 (then x̂ is 0 and the term has no direction).
            var alongSelf = cosine.mul(incoming).div_(norm).masked_fill_(norm.eq(0), 0);
            var alongOther = incoming.div(norm.clamp_min(CosineEps)).neg_();
            var gradient = unit.mul(alongSelf).addcmul_(otherUnit, alongOther, 1.0);
            return gradient.dtype == type ? gradient : gradient.to(type);
        }
    }

    /// <summary>
    /// The forward math of <see cref="CosineDistance"/>, in the compute type: the norms along the last dimension, the
    /// unit vectors (each divided by its norm clamped to eps), the cosine per row ([..., 1]) and the loss, all new
    /// tensors.
    /// </summary>
    private sealed class CosineRows
    {
        public CosineRows(Tensor a, Tensor b, ScalarType computeType)
        {
            var x = a.detach().to(computeType);
            var y = b.detach().to(computeType);
            ANorm = torch.linalg.vector_norm(x, 2, new[] { -1L }, keepdim: true);
            BNorm = torch.linalg.vector_norm(y, 2, new[] { -1L }, keepdim: true);
            AUnit = x.div(ANorm.clamp_min(CosineEps));
            BUnit = y.div(BNorm.clamp_min(CosineEps));
            Cosine = torch.linalg.vecdot(AUnit, BUnit, -1).unsqueeze_(-1);
            Positions = System.Math.Max(Count(a.shape[..^1]), 1L);
            Loss = Cosine.neg().add_(1).sum().div_((double)Positions);
        }

        public Tensor ANorm { get; }
        public Tensor BNorm { get; }
        public Tensor AUnit { get; }
        public Tensor BUnit { get; }
        public Tensor Cosine { get; }
        public long Positions { get; }
        public Tensor Loss { get; }
    }

    /// <summary>What <see cref="CosineDistanceFunction"/>'s backward needs besides the saved tensors.</summary>
    private sealed record CosineState(bool ANeedsGradient, bool BNeedsGradient, ScalarType AType, ScalarType BType, long Positions);
}
