using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl;

public static partial class Losses
{
    /// <summary>The eps of <see cref="CosineDistance"/>: each norm is at least this, as in <c>cosine_similarity</c>.</summary>
    private const double CosineEps = 1e-8;

    /// <summary>
    /// <see cref="CosineDistance"/> with a closed-form backward. Forward: the norms ‖a‖ and ‖b‖ and the dot product a·b
    /// along the last dimension (three reductions, nothing input-sized written), cos = a·b / (max(‖a‖, eps)
    /// max(‖b‖, eps)), and the loss Σ (1 − cos) / N. Backward: ∂cos/∂a = b / (max(‖a‖, eps) max(‖b‖, eps))
    /// − cos a / (‖a‖ max(‖a‖, eps)) (the second part 0 where a is 0), the gradient autograd takes of libtorch's
    /// <c>cosine_similarity</c> (whose clamp of the norm carries no gradient), and likewise for b: two passes over each
    /// input that needs a gradient, where autograd takes about eight. It saves both inputs, whether or not they need a
    /// gradient (each one's gradient reads the other): one changed in place after the forward makes their unpacking
    /// throw, and the gradient is then NaN (see <see cref="backward"/>). When a squared norm overflows the dtype the
    /// cosine is ∞ / ∞, NaN, where <c>cosine_similarity</c>, which divides by the norms first, gives a number.
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
            // The inputs in the compute type: the caller's own tensors (so their version counters), or new copies
            // when their dtype is not the compute type.
            ctx.save_for_backward(new List<Tensor> { rows.A, rows.B, rows.ANorm, rows.BNorm, rows.Cosine });
            ctx.save_data("state", new CosineState(a.requires_grad, b.requires_grad, a.dtype, b.dtype, a.shape, a.device, rows.Positions));
            return rows.Loss;
        }

        /// <inheritdoc/>
        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            var state = (CosineState)ctx.get_data("state");
            using var scope = NewDisposeScope();
            List<Tensor> saved;
            try
            {
                saved = ctx.get_saved_variables();
            }
            catch (System.Runtime.InteropServices.ExternalException)
            {
                // An input changed in place after the forward, so the forward's gradient cannot be computed. An
                // exception cannot leave a custom backward (it would end the process), so the gradient is NaN, which
                // no optimizer step can mistake for a gradient.
                return new List<Tensor>
                {
                    state.ANeedsGradient ? scope.MoveToOuter(Poisoned(state, state.AType)) : null!,
                    state.BNeedsGradient ? scope.MoveToOuter(Poisoned(state, state.BType)) : null!,
                    null!,
                };
            }
            var (a, b, aNorm, bNorm, cosine) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
            // ∂(1 − cos)/∂a × g / N = a (cos g / (N ‖a‖ max(‖a‖, eps))) − b (g / (N max(‖a‖, eps) max(‖b‖, eps))).
            var incoming = grad_output.div((double)state.Positions);
            var aClamped = aNorm.clamp_min(CosineEps);
            var bClamped = bNorm.clamp_min(CosineEps);
            var across = incoming.div(aClamped.mul(bClamped)).neg_();
            Tensor? aGradient = state.ANeedsGradient ? Gradient(a, aNorm, aClamped, b, cosine, incoming, across, state.AType) : null;
            Tensor? bGradient = state.BNeedsGradient ? Gradient(b, bNorm, bClamped, a, cosine, incoming, across, state.BType) : null;
            return new List<Tensor>
            {
                aGradient is null ? null! : scope.MoveToOuter(aGradient),
                bGradient is null ? null! : scope.MoveToOuter(bGradient),
                null!,
            };
        }

        /// <summary>
        /// The gradient with respect to one input x (the other is y) in its dtype: x (cos g / (N ‖x‖ max(‖x‖, eps)))
        /// + y <paramref name="across"/>, where across = −g / (N max(‖x‖, eps) max(‖y‖, eps)).
        /// </summary>
        private static Tensor Gradient(Tensor x, Tensor norm, Tensor clamped, Tensor y, Tensor cosine, Tensor incoming, Tensor across, ScalarType type)
        {
            // 0 where x is 0: x has no direction there, and autograd's gradient of the normalisation is 0.
            var alongSelf = cosine.mul(incoming).div_(norm).div_(clamped).masked_fill_(norm.eq(0), 0);
            var gradient = x.mul(alongSelf).addcmul_(y, across, 1.0);
            return gradient.dtype == type ? gradient : gradient.to(type);
        }

        /// <summary>A NaN gradient of an input's shape and dtype.</summary>
        private static Tensor Poisoned(CosineState state, ScalarType type) =>
            torch.full(state.Shape, double.NaN, dtype: type, device: state.Device);
    }

    /// <summary>
    /// The forward math of <see cref="CosineDistance"/>, in the compute type: the inputs (aliases of the caller's
    /// tensors when they have that type), the norms along the last dimension, the cosine per row ([..., 1]) and the
    /// loss; only the inputs may be the caller's tensors.
    /// </summary>
    private sealed class CosineRows
    {
        public CosineRows(Tensor a, Tensor b, ScalarType computeType)
        {
            A = a.detach().to(computeType);
            B = b.detach().to(computeType);
            ANorm = torch.linalg.vector_norm(A, 2, new[] { -1L }, keepdim: true);
            BNorm = torch.linalg.vector_norm(B, 2, new[] { -1L }, keepdim: true);
            using var dot = torch.linalg.vecdot(A, B, -1).unsqueeze_(-1);
            using var aClamped = ANorm.clamp_min(CosineEps);
            using var bClamped = BNorm.clamp_min(CosineEps);
            Cosine = dot.div(aClamped.mul_(bClamped));
            Positions = System.Math.Max(Count(a.shape[..^1]), 1L);
            Loss = Cosine.neg().add_(1).sum().div_((double)Positions);
        }

        public Tensor A { get; }
        public Tensor B { get; }
        public Tensor ANorm { get; }
        public Tensor BNorm { get; }
        public Tensor Cosine { get; }
        public long Positions { get; }
        public Tensor Loss { get; }
    }

    /// <summary>What <see cref="CosineDistanceFunction"/>'s backward needs besides the saved tensors.</summary>
    private sealed record CosineState(bool ANeedsGradient, bool BNeedsGradient, ScalarType AType, ScalarType BType, long[] Shape, Device Device, long Positions);
}
