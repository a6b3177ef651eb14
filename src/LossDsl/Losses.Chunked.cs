using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl;

public static partial class Losses
{
    /// <summary>
    /// The chunked path of a term over a class dimension. The caller has flattened the inputs to rows and computed
    /// <c>inverse</c> (1 / the denominator, zero when nothing is kept) in its own dispose scope, which must stay open
    /// until this returns: the custom function saves those tensors for its backward after its forward has returned.
    /// Without a gradient (grad mode off, or a student that does not require grad) the value is computed chunk by
    /// chunk and nothing else; otherwise through <see cref="ChunkedTerm"/>.
    /// </summary>
    /// <returns>The loss, 0-dim, in <see cref="RowTerm.ComputeType"/>, in the caller's dispose scope.</returns>
    private static Tensor RunChunked(Tensor student, RowTerm term, RowTensors tensors)
    {
        if (torch.is_grad_enabled() && student.requires_grad)
        {
            // Applied to a view of the student: a leaf's gradient accumulator keeps the gradient it receives without
            // copying it only when nothing else holds that tensor, and TorchSharp holds the tensor a custom backward
            // returns. Through the view it receives a new view of the buffer instead, which it keeps: without it, a
            // leaf's backward held a second student-sized tensor (1.16x the two logits at 4x512x32768 instead of 0.66x).
            return ChunkedTerm.apply(student.view(student.shape), term, tensors);
        }
        return term.Loss(tensors, gradient: null);
    }

    /// <summary>
    /// The tensors a chunked term reads, as rows: the student [N, C] (its own dtype), the teacher [N, C] or
    /// probability labels, class-index labels [N] (int64, ignored ones replaced by 0), the rows left out [N] (bool),
    /// class weights [C] in the compute type, and <see cref="Inverse"/>, the 0-dim factor 1 / denominator (zero when
    /// nothing is kept). Optional ones are null.
    /// </summary>
    internal sealed record RowTensors(Tensor Student, Tensor? Teacher, Tensor? Labels, Tensor? Dropped, Tensor? ClassWeight, Tensor Inverse)
    {
        /// <summary>How many tensors <see cref="ToList"/> gives.</summary>
        public const int Count = 6;

        /// <summary>In a fixed order, for <c>save_for_backward</c>.</summary>
        public List<Tensor> ToList() => new() { Student, Teacher!, Labels!, Dropped!, ClassWeight!, Inverse };

        /// <summary>The inverse of <see cref="ToList"/>.</summary>
        public static RowTensors FromList(IReadOnlyList<Tensor> saved) =>
            new(saved[0], saved[1], saved[2], saved[3], saved[4], saved[5]);
    }

    /// <summary>
    /// One term's per-chunk math. <see cref="Chunk"/> returns the chunk's numerator (the per-position losses summed
    /// over its kept rows, weights and T² applied) and, given a gradient slice, writes the gradient of that
    /// numerator with respect to the chunk's student rows, times <see cref="RowTensors.Inverse"/>, into it. Holds no
    /// tensor: the custom backward passes the saved ones back in.
    /// </summary>
    internal abstract class RowTerm
    {
        protected RowTerm(ScalarType computeType, long rowsPerChunk)
        {
            ComputeType = computeType;
            RowsPerChunk = rowsPerChunk;
        }

        /// <summary>float32, or float64 when an input is float64.</summary>
        public ScalarType ComputeType { get; }

        /// <summary>Rows (positions) per chunk, at least 1.</summary>
        public long RowsPerChunk { get; }

        /// <summary>
        /// Σ numerators × inverse over all chunks (zero when nothing is kept), writing the scaled gradient of every
        /// chunk into <paramref name="gradient"/> ([N, C], the student's dtype) when it is given.
        /// </summary>
        public Tensor Loss(RowTensors t, Tensor? gradient) =>
            Sum(t, (start, length) => Chunk(t, start, length, gradient?.narrow(0, start, length)));

        /// <summary>
        /// Σ <paramref name="chunk"/>(start, length) × inverse over the chunks, each in a dispose scope of its own (zero
        /// when nothing is kept).
        /// </summary>
        protected Tensor Sum(RowTensors t, Func<long, long, Tensor> chunk)
        {
            var total = torch.zeros(Array.Empty<long>(), dtype: ComputeType, device: t.Student.device);
            foreach (var (start, length) in Chunks(t))
            {
                using var chunkScope = NewDisposeScope();
                total.add_(chunk(start, length));
            }
            // masked_fill: with an empty denominator the numerator may be inf or NaN (a zero-weight label's -inf).
            return total.mul_(t.Inverse).masked_fill_(t.Inverse.eq(0), 0);
        }

        /// <summary>The chunks of the student's rows, in order: (first row, row count).</summary>
        protected IEnumerable<(long Start, long Length)> Chunks(RowTensors t)
        {
            long rows = t.Student.shape[0];
            for (long start = 0; start < rows; start += RowsPerChunk)
            {
                yield return (start, Math.Min(RowsPerChunk, rows - start));
            }
        }

        /// <summary>The numerator of rows [start, start + length) and, into <paramref name="gradient"/>, its scaled gradient.</summary>
        protected abstract Tensor Chunk(RowTensors t, long start, long length, Tensor? gradient);

        /// <summary>Rows [start, start + length) of a [N, ...] tensor, or null.</summary>
        protected static Tensor? Rows(Tensor? value, long start, long length) => value?.narrow(0, start, length);

        /// <summary>
        /// Sums <paramref name="perRow"/> over the kept rows (masked_fill, not a product: a dropped row's loss may be
        /// inf or NaN).
        /// </summary>
        protected static Tensor KeptSum(Tensor perRow, Tensor? dropped) =>
            dropped is null ? perRow.sum() : perRow.masked_fill(dropped, 0).sum();
    }

    /// <summary>
    /// A <see cref="RowTerm"/> whose forward computes the value alone, chunk by chunk, and whose backward computes the
    /// gradient, chunk by chunk: for a term whose gradient costs little beside its value, so that a forward pass does
    /// no backward work. When <see cref="Keeps"/>, the forward keeps the part of the gradient's closed form that does
    /// not depend on the student, one chunk-sized tensor per chunk (for inputs small enough that memory is not the
    /// point), and backward recomputes only the student's part from the saved student; otherwise backward recomputes
    /// all of it from the saved inputs.
    /// </summary>
    internal abstract class DeferredRowTerm : RowTerm
    {
        protected DeferredRowTerm(ScalarType computeType, long rowsPerChunk, bool keeps)
            : base(computeType, rowsPerChunk) => Keeps = keeps;

        /// <summary>Whether the forward keeps what backward reads (<see cref="Value"/>'s <c>kept</c>).</summary>
        public bool Keeps { get; }

        /// <summary>
        /// The loss, chunk by chunk, adding what backward reads to <paramref name="kept"/> (in the caller's dispose
        /// scope; one tensor per chunk, in order) when it is given.
        /// </summary>
        public Tensor Value(RowTensors t, List<Tensor>? kept) => Sum(t, (start, length) => ValueChunk(t, start, length, kept));

        /// <inheritdoc/>
        /// <exception cref="InvalidOperationException">A gradient buffer is given: this term computes its gradient in backward.</exception>
        protected sealed override Tensor Chunk(RowTensors t, long start, long length, Tensor? gradient) =>
            gradient is null
                ? ValueChunk(t, start, length, kept: null)
                : throw new InvalidOperationException($"{GetType().Name} computes its gradient in backward; its forward takes no gradient buffer.");

        /// <summary>
        /// Writes the gradient of the loss with respect to the student, times <paramref name="incoming"/> (0-dim, the
        /// gradient of what the loss feeds), into <paramref name="gradient"/> ([N, C], the student's dtype), chunk by
        /// chunk: with <paramref name="kept"/> (what <see cref="Value"/> kept) when it is given, otherwise recomputed
        /// from the inputs alone.
        /// </summary>
        public void Gradient(RowTensors t, IReadOnlyList<Tensor>? kept, Tensor gradient, Tensor incoming)
        {
            using var factor = t.Inverse.mul(incoming).mul_(GradientScale);
            int chunk = 0;
            foreach (var (start, length) in Chunks(t))
            {
                using var chunkScope = NewDisposeScope();
                GradientChunk(t, start, length, kept?[chunk], gradient.narrow(0, start, length), factor);
                chunk++;
            }
        }

        /// <summary>The constant the gradient's closed form carries (T for <see cref="SoftTargetKl"/>).</summary>
        protected abstract double GradientScale { get; }

        /// <summary>
        /// The numerator of rows [start, start + length), adding the chunk's one kept tensor to <paramref name="kept"/>
        /// when it is given.
        /// </summary>
        protected abstract Tensor ValueChunk(RowTensors t, long start, long length, List<Tensor>? kept);

        /// <summary>
        /// Rows [start, start + length)'s part of <see cref="Gradient"/> into <paramref name="gradient"/> (that slice):
        /// the closed form without <see cref="GradientScale"/>, times <paramref name="factor"/>, which carries it, the
        /// inverse of the denominator and the incoming gradient. With <paramref name="kept"/> (what the chunk's
        /// forward kept, which it must leave unchanged: a second backward over a retained graph reads it again), or
        /// recomputed from the inputs alone when it is null.
        /// </summary>
        protected abstract void GradientChunk(RowTensors t, long start, long length, Tensor? kept, Tensor gradient, Tensor factor);
    }

    /// <summary>
    /// <see cref="SoftTargetKl"/>'s rows: T² Σ p_t (log p_t − log q_s) per row, and the closed-form gradient
    /// T (q_s − p_t) with respect to the student's logits.
    /// </summary>
    private sealed class SoftTargetKlRows : DeferredRowTerm
    {
        private readonly double temperature;

        public SoftTargetKlRows(ScalarType computeType, long rowsPerChunk, double temperature, bool keeps)
            : base(computeType, rowsPerChunk, keeps) => this.temperature = temperature;

        protected override Tensor ValueChunk(RowTensors t, long start, long length, List<Tensor>? kept)
        {
            // The fused log_softmax kernel, which reads each row while it is in cache, and each temporary disposed as
            // soon as it is dead: few chunk-sized buffers are alive at once, for the allocator's sake (with one per
            // operation, glibc kept enough freed ones to add 0.1x to 0.25x the two logits to the peak at 4x512x32768).
            using var studentLogProbs = SoftenedLogProbs(Rows(t.Student, start, length)!);
            using var teacherLogProbs = SoftenedLogProbs(Rows(t.Teacher, start, length)!);
            // Kept per chunk when the forward keeps: keeping the student's log-probabilities too measured slower forward
            // (the second kept tensor is written to memory the cache does not hold) and no faster forward+backward.
            var teacherProbs = teacherLogProbs.exp();
            // Where p_t is 0 the term is 0, but (-inf) - (-inf) or 0 × inf make it NaN there: nansum leaves those out
            // at no cost of its own, where a mask of p_t = 0 took two passes (a fifth of the chunk's time). The NaNs
            // it must keep come from a NaN or +inf logit, or a teacher row of -inf only, and log_softmax makes every
            // element of such a row NaN (its sum of exponentials is NaN): the first column tells which rows had one.
            using var poisoned = PoisonedRows(studentLogProbs, teacherLogProbs);
            var terms = teacherLogProbs.sub_(studentLogProbs).mul_(teacherProbs);
            var numerator = terms.nansum();
            if (poisoned is not null)
            {
                numerator.masked_fill_(poisoned, double.NaN);
            }
            numerator.mul_(temperature * temperature);
            if (kept is null)
            {
                teacherProbs.Dispose();
            }
            else
            {
                kept.Add(teacherProbs.MoveToOuterDisposeScope());
            }
            return numerator;
        }

        protected override double GradientScale => temperature;

        protected override void GradientChunk(RowTensors t, long start, long length, Tensor? kept, Tensor gradient, Tensor factor)
        {
            // d/dz_s T² KL = T (q_s − p_t), with the fused softmax kernel; p_t is the forward's when it kept it (a
            // recomputed one is freed with the chunk's dispose scope).
            using var studentProbs = SoftenedProbs(Rows(t.Student, start, length)!);
            var teacherProbs = kept ?? SoftenedProbs(Rows(t.Teacher, start, length)!);
            gradient.copy_(studentProbs.sub_(teacherProbs).mul_(factor));
        }

        /// <summary>
        /// Whether a row of either log_softmax is NaN (0-dim bool): log_softmax makes a row NaN everywhere or nowhere,
        /// so its first column tells. Null when there are no classes (no column, and nothing NaN).
        /// </summary>
        private static Tensor? PoisonedRows(Tensor studentLogProbs, Tensor teacherLogProbs)
        {
            if (studentLogProbs.shape[^1] == 0)
            {
                return null;
            }
            // ne, not isnan, which has no kernel on the meta device.
            using var first = studentLogProbs.select(1, 0).add(teacherLogProbs.select(1, 0));
            using var nan = first.ne(first);
            return nan.any();
        }

        /// <summary>log_softmax(z / T) along the classes, in <see cref="RowTerm.ComputeType"/>, in a new tensor.</summary>
        private Tensor SoftenedLogProbs(Tensor logits)
        {
            using var softened = Softened(logits);
            return nn.functional.log_softmax(softened, -1);
        }

        /// <summary>softmax(z / T) along the classes, in <see cref="RowTerm.ComputeType"/>, in a new tensor.</summary>
        private Tensor SoftenedProbs(Tensor logits)
        {
            using var softened = Softened(logits);
            return nn.functional.softmax(softened, -1);
        }

        /// <summary>z / T in <see cref="RowTerm.ComputeType"/>: a new tensor, or an alias of z when T is 1 and z has that type.</summary>
        private Tensor Softened(Tensor logits)
        {
            if (logits.dtype == ComputeType)
            {
                return temperature == 1 ? logits.alias() : logits.div(temperature);
            }
            var converted = logits.to(ComputeType);
            return temperature == 1 ? converted : converted.div_(temperature);
        }
    }

    /// <summary>
    /// <see cref="CrossEntropy"/>'s rows with class-index labels: (1 − ε) w_y (−log p_y) + ε / C Σ_c w_c (−log p_c)
    /// per kept row, and the closed-form gradient (1 − ε) w_y (p − e_y) + (ε / C)(W p − w), W = Σ_c w_c (w = 1 and
    /// W = C without class weights).
    /// </summary>
    private sealed class CrossEntropyRows : RowTerm
    {
        private readonly double smoothing;

        public CrossEntropyRows(ScalarType computeType, long rowsPerChunk, double smoothing)
            : base(computeType, rowsPerChunk) => this.smoothing = smoothing;

        protected override Tensor Chunk(RowTensors t, long start, long length, Tensor? gradient)
        {
            var logProbs = nn.functional.log_softmax(Rows(t.Student, start, length)!.to(ComputeType), -1);
            long classes = logProbs.shape[^1];
            var labels = Rows(t.Labels, start, length)!.unsqueeze(-1);
            var dropped = Rows(t.Dropped, start, length);
            // (1 − ε) w_y per row: the weight of the label's negative log likelihood.
            var labelWeight = t.ClassWeight is null
                ? torch.full(new[] { length, 1L }, 1 - smoothing, dtype: ComputeType, device: logProbs.device)
                : t.ClassWeight.gather(0, labels.flatten()).unsqueeze(-1).mul_(1 - smoothing);
            var perRow = logProbs.gather(-1, labels).mul_(labelWeight).neg_();
            if (smoothing > 0)
            {
                var smoothed = t.ClassWeight is null ? logProbs.sum(-1, keepdim: true) : logProbs.matmul(t.ClassWeight).unsqueeze(-1);
                perRow.sub_(smoothed.mul_(smoothing / classes));
            }
            var numerator = KeptSum(perRow.squeeze(-1), dropped);
            if (gradient is not null)
            {
                var probs = logProbs.exp_();
                double weightTotal = smoothing / classes;
                Tensor rowScale;
                if (smoothing == 0)
                {
                    rowScale = labelWeight;
                }
                else if (t.ClassWeight is null)
                {
                    rowScale = labelWeight + weightTotal * classes;
                }
                else
                {
                    rowScale = labelWeight + t.ClassWeight.sum().mul_(weightTotal);
                }
                var chunkGradient = probs.mul_(rowScale).scatter_add_(-1, labels, labelWeight.neg());
                if (smoothing > 0)
                {
                    if (t.ClassWeight is null)
                    {
                        chunkGradient.sub_(weightTotal);
                    }
                    else
                    {
                        chunkGradient.sub_(t.ClassWeight * weightTotal);
                    }
                }
                if (dropped is not null)
                {
                    chunkGradient.masked_fill_(dropped.unsqueeze(-1), 0);
                }
                gradient.copy_(chunkGradient.mul_(t.Inverse));
            }
            return numerator;
        }
    }

    /// <summary>
    /// A distillation divergence's rows by its own unchunked math (its per-position function on the student's
    /// and the teacher's softened log probabilities), T² applied; the gradient of a chunk is autograd's, taken on
    /// a detached copy of the chunk, so the per-element math is exactly the unchunked term's.
    /// </summary>
    private sealed class DivergenceRows : RowTerm
    {
        private readonly double temperature;
        private readonly Func<Tensor, Tensor, Tensor> perPosition;

        public DivergenceRows(ScalarType computeType, long rowsPerChunk, double temperature, Func<Tensor, Tensor, Tensor> perPosition)
            : base(computeType, rowsPerChunk)
        {
            this.temperature = temperature;
            this.perPosition = perPosition;
        }

        protected override Tensor Chunk(RowTensors t, long start, long length, Tensor? gradient)
        {
            var studentRows = Rows(t.Student, start, length)!.detach();
            if (gradient is not null)
            {
                studentRows.requires_grad_(true);
            }
            var teacherLogProbs = nn.functional.log_softmax(Rows(t.Teacher, start, length)!.to(ComputeType) / temperature, -1);
            var dropped = Rows(t.Dropped, start, length);
            using var gradMode = torch.set_grad_enabled(gradient is not null);
            var studentLogProbs = nn.functional.log_softmax(studentRows.to(ComputeType) / temperature, -1);
            var numerator = KeptSum(perPosition(studentLogProbs, teacherLogProbs), dropped) * (temperature * temperature);
            if (gradient is not null)
            {
                var chunkGradient = torch.autograd.grad(new[] { numerator }, new[] { studentRows })[0];
                if (dropped is not null)
                {
                    // A dropped row's divergence may be inf or NaN; its gradient is zero, as in the unchunked term.
                    chunkGradient.masked_fill_(dropped.unsqueeze(-1), 0);
                }
                gradient.copy_(chunkGradient.mul_(t.Inverse));
                return numerator.detach();
            }
            return numerator;
        }
    }

    /// <summary>
    /// The custom autograd function of the chunked terms. For a <see cref="DeferredRowTerm"/> its forward computes the
    /// loss (keeping what backward reads when the term <see cref="DeferredRowTerm.Keeps"/>) and every backward
    /// computes the gradient chunk by chunk. For the other terms its forward computes the loss and, chunk by chunk,
    /// the gradient of the loss with respect to the student's logits into one buffer, which it saves; the first
    /// backward hands that buffer over, scaled in place by the output's gradient (so one backward pass never holds a
    /// second gradient-sized tensor), and a later one (after <c>retain_graph</c>) finds it handed over and recomputes
    /// the gradient chunk by chunk from the saved inputs. Every saved tensor is held by libtorch's saved variables and
    /// freed with the graph; the tensors backward creates live in the dispose scope of the code that runs the
    /// backward pass.
    /// </summary>
    private sealed class ChunkedTerm : torch.autograd.SingleTensorFunction<ChunkedTerm>
    {
        /// <inheritdoc/>
        public override string Name => "LossDsl.ChunkedTerm";

        /// <summary>Arguments: the student logits (the differentiable input), the <see cref="RowTerm"/>, the <see cref="RowTensors"/>.</summary>
        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var student = (Tensor)vars[0];
            var term = (RowTerm)vars[1];
            var tensors = (RowTensors)vars[2];
            ctx.save_data("state", new ChunkedState(term, student.shape, student.dtype, student.device));
            if (term is DeferredRowTerm deferred)
            {
                var kept = deferred.Keeps ? new List<Tensor>() : null;
                var value = deferred.Value(tensors, kept);
                if (kept is null)
                {
                    // The inputs themselves: unpacking one that the caller has since changed in place throws, which
                    // tells backward that the forward's gradient cannot be recomputed (see there).
                    ctx.save_for_backward(tensors.ToList());
                }
                else
                {
                    // Backward reads the student and the forward's own p_t. The student is saved itself, as above; the
                    // other inputs only give shapes, so they are saved through tensors of their own version counter
                    // (as below), which a change made in place does not make throw.
                    ctx.save_for_backward(Decoupled(tensors).Skip(1).Prepend(tensors.Student).Concat(kept).ToList());
                }
                return value;
            }
            var gradient = torch.empty_like(tensors.Student);
            var loss = term.Loss(tensors, gradient);
            // Every tensor is saved through a second tensor on the same storage with its own version counter. The
            // buffer, so that backward may scale it in place and a second backward can still unpack the rest. The
            // inputs, because unpacking a saved tensor that the caller has since changed in place throws, and an
            // exception thrown in a custom backward cannot cross libtorch's frames: it ends the process. So a
            // changed input costs nothing on the first backward, which hands over the buffer computed from the
            // values the forward saw; only a second one over a retained graph recomputes from the changed values.
            ctx.save_for_backward(Decoupled(tensors).Append(Decoupled(gradient)).ToList());
            return loss;
        }

        /// <summary>A tensor on <paramref name="tensor"/>'s storage, with a version counter of its own.</summary>
        private static Tensor Decoupled(Tensor tensor) =>
            torch.empty(0, dtype: tensor.dtype, device: tensor.device).set_(tensor.detach());

        /// <summary><see cref="RowTensors.ToList"/>, each tensor <see cref="Decoupled(Tensor)"/> (the missing ones null).</summary>
        private static IEnumerable<Tensor> Decoupled(RowTensors tensors) =>
            tensors.ToList().Select(tensor => tensor is null ? null! : Decoupled(tensor));

        /// <inheritdoc/>
        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            var state = (ChunkedState)ctx.get_data("state");
            using var scope = NewDisposeScope();
            Tensor gradient;
            if (state.Term is DeferredRowTerm deferred)
            {
                List<Tensor> inputs;
                try
                {
                    inputs = ctx.get_saved_variables();
                }
                catch (System.Runtime.InteropServices.ExternalException)
                {
                    // An input changed in place after the forward, so the forward's gradient cannot be recomputed.
                    // An exception cannot leave a custom backward (it would end the process), so the gradient is NaN,
                    // which no optimizer step can mistake for a gradient.
                    gradient = torch.full(state.StudentShape, double.NaN, dtype: state.StudentType, device: state.StudentDevice);
                    return new List<Tensor> { scope.MoveToOuter(gradient), null!, null! };
                }
                var tensors = RowTensors.FromList(inputs);
                gradient = torch.empty_like(tensors.Student);
                deferred.Gradient(tensors, deferred.Keeps ? inputs.Skip(RowTensors.Count).ToList() : null, gradient, grad_output);
                return new List<Tensor> { scope.MoveToOuter(gradient.view(state.StudentShape)), null!, null! };
            }
            var saved = ctx.get_saved_variables();
            if (!state.HandedOver)
            {
                state.HandedOver = true;
                var buffer = saved[^1];
                gradient = torch.empty(0, dtype: buffer.dtype, device: buffer.device).set_(buffer);
            }
            else
            {
                var tensors = RowTensors.FromList(saved);
                gradient = torch.empty_like(tensors.Student);
                state.Term.Loss(tensors, gradient);
            }
            var result = gradient.mul_(grad_output).view(state.StudentShape);
            return new List<Tensor> { scope.MoveToOuter(result), null!, null! };
        }
    }

    /// <summary>What <see cref="ChunkedTerm"/>'s backward needs besides the saved tensors.</summary>
    private sealed class ChunkedState(RowTerm term, long[] studentShape, ScalarType studentType, Device studentDevice)
    {
        public RowTerm Term { get; } = term;

        public long[] StudentShape { get; } = studentShape;

        public ScalarType StudentType { get; } = studentType;

        public Device StudentDevice { get; } = studentDevice;

        /// <summary>Whether a backward pass has handed the forward's gradient buffer over.</summary>
        public bool HandedOver { get; set; }
    }
}
