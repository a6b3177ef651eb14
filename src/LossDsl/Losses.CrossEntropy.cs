using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl;

public static partial class Losses
{
    /// <summary>
    /// <see cref="CrossEntropy"/> with class-index labels and no class weights, unchunked, with a closed-form backward
    /// (what <see cref="Chunking.Auto"/> takes below its threshold when a gradient is needed). Forward: log p =
    /// log_softmax(z), the kept rows' (1 − ε)(−log p_y) + (ε / C) Σ_c (−log p_c), times 1 / the kept count. Backward:
    /// (p − (1 − ε) e_y − ε / C) times the incoming gradient over the kept count, 0 on left-out rows: an exp, a scatter
    /// and one or two passes, where autograd through <c>cross_entropy</c> takes nll_loss's and log_softmax's backward.
    /// It saves log p and the labels, tensors of its own, so that an input changed in place after the forward changes
    /// nothing.
    /// </summary>
    private sealed class CrossEntropyFunction : torch.autograd.SingleTensorFunction<CrossEntropyFunction>
    {
        /// <inheritdoc/>
        public override string Name => "LossDsl.CrossEntropy";

        /// <summary>
        /// Arguments: the logits as rows [N, C] (a view of the caller's tensor), the labels [N] (int64, left-out rows
        /// read 0), the kept-row factor [N, 1] (1 / the kept count on kept rows, 0 on left-out ones; compute type),
        /// the compute type and ε.
        /// </summary>
        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var logits = (Tensor)vars[0];
            var labels = (Tensor)vars[1];
            var keep = (Tensor)vars[2];
            var computeType = (ScalarType)vars[3];
            double smoothing = (double)vars[4];
            var logProbs = nn.functional.log_softmax(logits.detach().to(computeType), -1);
            long classes = logProbs.shape[^1];
            using var labelColumn = labels.unsqueeze(-1);
            using var perRow = logProbs.gather(-1, labelColumn).mul_(-(1 - smoothing));
            if (smoothing > 0)
            {
                using var smoothed = logProbs.sum(-1, keepdim: true);
                perRow.sub_(smoothed.mul_(smoothing / classes));
            }
            // masked_fill, not only the factor's 0: a left-out row's loss may be inf or NaN.
            using var dropped = keep.eq(0);
            var loss = perRow.masked_fill_(dropped, 0).mul_(keep).sum();
            ctx.save_for_backward(new List<Tensor> { logProbs, labelColumn.alias(), keep });
            ctx.save_data("state", new CrossEntropyState(smoothing, logits.shape, logits.dtype));
            return loss;
        }

        /// <inheritdoc/>
        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            var state = (CrossEntropyState)ctx.get_data("state");
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var (logProbs, labelColumn, keep) = (saved[0], saved[1], saved[2]);
            long classes = logProbs.shape[^1];
            // Out of place, so that log p stays for a second backward over a retained graph.
            var gradient = logProbs.exp();
            using (var label = torch.full(labelColumn.shape, -(1 - state.Smoothing), dtype: gradient.dtype, device: gradient.device))
            {
                gradient.scatter_add_(-1, labelColumn, label);
            }
            if (state.Smoothing > 0)
            {
                gradient.sub_(state.Smoothing / classes);
            }
            using (var factor = keep.mul(grad_output))
            {
                gradient.mul_(factor);
            }
            var result = gradient.dtype == state.LogitsType ? gradient : gradient.to(state.LogitsType);
            return new List<Tensor> { scope.MoveToOuter(result.view(state.LogitsShape)), null!, null!, null!, null! };
        }
    }

    /// <summary>What <see cref="CrossEntropyFunction"/>'s backward needs besides the saved tensors.</summary>
    private sealed record CrossEntropyState(double Smoothing, long[] LogitsShape, ScalarType LogitsType);
}
