using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl;

/// <summary>
/// Common loss terms, written so that they can sit inside a training step: each returns a scalar
/// (0-dim) tensor that carries autograd, reads only tensor metadata on the host (no
/// synchronisation with the device), and leaves no intermediate tensor alive — only the result
/// survives, in the caller's dispose scope.
/// </summary>
/// <remarks>
/// Every term is computed in at least float32: float16 and bfloat16 inputs are upcast to float32
/// and the result is float32; float64 inputs stay float64.
/// "Positions" are all dimensions but the last, flattened; the softmax-based terms take their
/// means over positions, the element-wise ones (regression, binary) over elements. Names and
/// semantics follow PyTorch's, and each term is checked against fixtures that PyTorch 1.13 wrote
/// (<c>tests/reference/make_fixtures.py</c>).
/// </remarks>
public static partial class Losses
{
    /// <summary>
    /// Cross-entropy between <paramref name="logits"/> and <paramref name="labels"/>, averaged over
    /// the positions that are kept.
    /// </summary>
    /// <param name="logits">Unnormalised scores of shape [..., C], floating point.</param>
    /// <param name="labels">
    /// Either class indices (int64 or int32) of shape [...] — the logits' shape without its last
    /// dimension — or floating-point class probabilities (for example one-hot rows) of the same
    /// shape as <paramref name="logits"/>. Index values are not range-checked on the host, since
    /// that would need a synchronisation.
    /// </param>
    /// <param name="ignoreIndex">
    /// Positions whose class index equals this value are excluded from the loss and the mean.
    /// Applies to index labels only.
    /// </param>
    /// <param name="mask">
    /// Optional tensor of shape [...] (bool or numeric); positions where it is zero or false are
    /// excluded from the loss and the mean.
    /// </param>
    /// <param name="labelSmoothing">
    /// PyTorch's <c>label_smoothing</c> ε in [0, 1]: the target becomes (1 − ε) × the labels + ε / C
    /// of every class. With class-index labels the loss is (1 − ε) × the (weighted) negative log
    /// likelihood + ε / C × the smoothing term −Σ_c w_c log p_c, both divided by the same
    /// denominator (see <paramref name="weight"/>); with probability labels the smoothed target
    /// enters the cross-entropy directly.
    /// </param>
    /// <param name="weight">
    /// Optional class weights w of shape [C], floating point (PyTorch's <c>weight</c>). With
    /// class-index labels a position's loss is scaled by w of its label, the smoothing term weighs
    /// class c by w_c, and the mean divides by the sum of w over the labels of the kept positions
    /// rather than by their count. With probability labels class c's term is scaled by w_c and the
    /// mean divides by the kept count. Treated as a constant (no gradient reaches it).
    /// </param>
    /// <param name="chunking">
    /// How the rows are processed (<see cref="Chunking"/>): by default (<see cref="Chunking.Auto"/>), above a size,
    /// class-index labels take the chunked path, which computes the loss and the gradient of <paramref name="logits"/> chunk by
    /// chunk with a custom backward, so memory stays near one gradient; <see cref="Chunking.Off"/> is plain
    /// autograd. Probability labels always take the unchunked path.
    /// </param>
    /// <returns>
    /// The sum of per-position losses over kept positions divided by the kept count, or by the sum of
    /// the kept labels' class weights when <paramref name="weight"/> is given with class-index labels:
    /// zero, not NaN (as PyTorch gives), when every position is excluded or that weight sum is zero.
    /// float32, or float64 when an input is float64.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is not in [0, 1].</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor CrossEntropy(
        Tensor logits, Tensor labels, long ignoreIndex = -100, Tensor? mask = null, double labelSmoothing = 0, Tensor? weight = null,
        Chunking chunking = default)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(labelSmoothing), labelSmoothing, $"labelSmoothing must be between 0 and 1, but it is {labelSmoothing}.");
        }
        RequireFloating(logits, "logits", nameof(logits));
        RequireAtLeastOneDim(logits, "logits", nameof(logits));
        RequireSameDevice(logits, "logits", labels, "labels", nameof(labels));

        long[] positionShape = logits.shape[..^1];
        bool indexLabels = labels.dtype is ScalarType.Int64 or ScalarType.Int32;
        if (indexLabels)
        {
            if (!SameShape(labels.shape, positionShape))
            {
                throw new ArgumentException(
                    $"class-index labels {FormatShape(labels.shape)} must have the shape of logits {FormatShape(logits.shape)} " +
                    $"without its last dimension, {FormatShape(positionShape)}.",
                    nameof(labels));
            }
        }
        else if (IsFloating(labels.dtype))
        {
            if (!SameShape(labels.shape, logits.shape))
            {
                throw new ArgumentException(
                    $"probability labels {FormatShape(labels.shape)} and logits {FormatShape(logits.shape)} must have the same shape " +
                    $"(class-index labels, int64 or int32, would have shape {FormatShape(positionShape)}).",
                    nameof(labels));
            }
        }
        else
        {
            throw new ArgumentException(
                $"the dtype of labels {FormatShape(labels.shape)} is {labels.dtype}; expected class indices (Int64 or Int32) " +
                "or probabilities (Float16, BFloat16, Float32 or Float64).",
                nameof(labels));
        }

        if (mask is not null)
        {
            RequireSameDevice(logits, "logits", mask, "mask", nameof(mask));
            if (!SameShape(mask.shape, positionShape))
            {
                throw new ArgumentException(
                    $"mask {FormatShape(mask.shape)} must have the shape of logits {FormatShape(logits.shape)} " +
                    $"without its last dimension, {FormatShape(positionShape)}.",
                    nameof(mask));
            }
            if (mask.is_complex())
            {
                throw new ArgumentException($"the dtype of mask {FormatShape(mask.shape)} is {mask.dtype}; expected Bool or a real number type.", nameof(mask));
            }
        }

        long classes = logits.shape[^1];
        if (weight is not null)
        {
            RequireFloating(weight, "class weights", nameof(weight));
            RequireSameDevice(logits, "logits", weight, "class weights", nameof(weight));
            if (weight.Dimensions != 1 || weight.shape[0] != classes)
            {
                throw new ArgumentException(
                    $"class weights {FormatShape(weight.shape)} must have shape [{classes}], the last dimension of logits {FormatShape(logits.shape)}.",
                    nameof(weight));
            }
        }

        using var scope = NewDisposeScope();
        ScalarType computeType = indexLabels ? ComputeType(logits.dtype) : ComputeType(logits.dtype, labels.dtype);
        if (weight is not null)
        {
            computeType = ComputeType(computeType, weight.dtype);
        }
        var classWeight = weight?.detach().to(computeType);
        if (indexLabels && chunking.Chunks(Count(positionShape), classes))
        {
            return scope.MoveToOuter(ChunkedCrossEntropy(logits, labels, ignoreIndex, mask, labelSmoothing, classWeight, computeType, chunking));
        }
        Tensor perPosition;
        Tensor? dropped = null;
        Tensor? positionWeight = null;
        if (indexLabels)
        {
            var index = labels.to(ScalarType.Int64);
            dropped = index.eq(ignoreIndex);
            long rows = Count(positionShape);
            if (mask is null && classWeight is null)
            {
                // Without a mask or class weights the fused op's own mean is LossDsl's: the sum over kept positions
                // divided by their count; only when nothing is kept it gives NaN, and LossDsl 0 (its gradient is 0
                // then too). With class weights a zero weight sum would give NaN gradients: the general path below.
                var mean = nn.functional.cross_entropy(
                    logits.to(computeType).reshape(rows, classes), index.reshape(rows), weight: null, ignoreIndex, nn.Reduction.Mean, labelSmoothing);
                return scope.MoveToOuter(mean.masked_fill(dropped.sum().eq(rows), 0));
            }
            // The fused op gives each position its (1 − ε) w_y nll + ε / C Σ_c w_c (−log p_c), zero where ignored.
            perPosition = nn.functional.cross_entropy(
                logits.to(computeType).reshape(rows, classes), index.reshape(rows), classWeight, ignoreIndex, nn.Reduction.None, labelSmoothing)
                .reshape(positionShape);
            if (classWeight is not null)
            {
                // Ignored positions read class 0's weight (any valid index would do) and are dropped below.
                positionWeight = classWeight.gather(0, index.masked_fill(dropped, 0).flatten()).reshape(positionShape);
            }
        }
        else
        {
            var logProbs = nn.functional.log_softmax(logits.to(computeType), -1);
            var target = labels.to(computeType);
            if (labelSmoothing > 0)
            {
                target = target * (1 - labelSmoothing) + labelSmoothing / classes;
            }
            if (classWeight is not null)
            {
                target = target * classWeight;
            }
            // A zero probability contributes zero even where log p is -inf (0 * -inf would be NaN).
            perPosition = (target * logProbs).masked_fill(target.eq(0), 0).sum(-1).neg();
        }

        if (mask is not null)
        {
            var maskDropped = mask.eq(0);
            dropped = dropped is null ? maskDropped : dropped.bitwise_or(maskDropped);
        }

        long positions = Count(positionShape);
        Tensor loss;
        if (dropped is null)
        {
            loss = perPosition.sum() / (double)Math.Max(positions, 1L);
        }
        else if (positionWeight is null)
        {
            // masked_fill, not multiplication: a dropped position's loss may be inf or NaN.
            var total = perPosition.masked_fill(dropped, 0).sum();
            var kept = dropped.sum().neg().add(positions).to(computeType).clamp_min(1);
            loss = total / kept;
        }
        else
        {
            // PyTorch's weighted mean: divided by the kept labels' class weights, zero where they sum to zero.
            var total = perPosition.masked_fill(dropped, 0).sum();
            var weightSum = positionWeight.masked_fill(dropped, 0).sum();
            var empty = weightSum.eq(0);
            loss = (total / weightSum.masked_fill(empty, 1)).masked_fill(empty, 0);
        }
        return scope.MoveToOuter(loss);
    }

    /// <summary>
    /// Knowledge-distillation loss: KL(teacher_T ‖ student_T) × T², where
    /// p_T = softmax(logits / T) along the last dimension, averaged over positions.
    /// </summary>
    /// <param name="studentLogits">Student scores of shape [..., C], floating point, at least 1-dim.</param>
    /// <param name="teacherLogits">
    /// Teacher scores of the same shape. Treated as a target: the loss uses a detached copy, so no
    /// gradient reaches the teacher.
    /// </param>
    /// <param name="temperature">Softening temperature T; finite and greater than zero.</param>
    /// <param name="chunking">
    /// How the rows are processed (<see cref="Chunking"/>): by default (<see cref="Chunking.Auto"/>), above a size, chunk by chunk,
    /// the value in the forward pass and the gradient of the student logits in a custom backward, so memory stays
    /// near one gradient; <see cref="Chunking.Off"/> is plain autograd. Both give the same value and gradient, except
    /// for an input changed in place before the backward pass, where the chunked path may give NaN (see
    /// <c>docs/language.md</c>, "Large vocabularies: chunking").
    /// </param>
    /// <returns>
    /// Mean over positions of Σ p_t (log p_t − log p_s), times T². Computed in log space; classes
    /// whose teacher probability is zero contribute zero even where the student's log probability
    /// is −∞. float32, or float64 when an input is float64.
    /// </returns>
    /// <exception cref="ArgumentNullException">A logits tensor is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not finite and positive.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor SoftTargetKl(Tensor studentLogits, Tensor teacherLogits, double temperature, Chunking chunking = default)
    {
        RequireDistillationInputs(studentLogits, teacherLogits, temperature);

        using var scope = NewDisposeScope();
        ScalarType computeType = ComputeType(studentLogits.dtype, teacherLogits.dtype);
        long positions = Count(studentLogits.shape[..^1]);
        long classes = studentLogits.shape[^1];
        if (chunking.Chunks(positions, classes, Chunking.SoftTargetKlAutoThresholdElements))
        {
            var rows = new RowTensors(
                AsRows(studentLogits), AsRows(teacherLogits), Labels: null, Dropped: null, ClassWeight: null,
                InverseCount(dropped: null, positions, computeType, studentLogits.device));
            return scope.MoveToOuter(RunChunked(
                studentLogits,
                new SoftTargetKlRows(computeType, chunking.RowsPerChunk(classes), temperature, chunking.KeepsForBackward(positions * classes)),
                rows));
        }
        var studentLogProbs = nn.functional.log_softmax(studentLogits.to(computeType) / temperature, -1);
        var teacherLogProbs = nn.functional.log_softmax(teacherLogits.detach().to(computeType) / temperature, -1);
        var teacherProbs = teacherLogProbs.exp();
        // Where p_t is 0, the term is 0; without the fill, (-inf) - (-inf) would make it NaN.
        var terms = (teacherProbs * (teacherLogProbs - studentLogProbs)).masked_fill(teacherProbs.eq(0), 0);
        var loss = terms.sum() * (temperature * temperature / Math.Max(positions, 1L));
        return scope.MoveToOuter(loss);
    }

    /// <summary>
    /// Reverse KL divergence for distillation: KL(student_T ‖ teacher_T) × T², where
    /// p_T = softmax(logits / T) along the last dimension, averaged over the kept positions. Unlike
    /// <see cref="SoftTargetKl"/> (forward KL), it is mode-seeking: the student is pushed to put
    /// its mass where the teacher's is, not to cover all of it.
    /// </summary>
    /// <param name="studentLogits">Student scores of shape [..., C], floating point, at least 1-dim.</param>
    /// <param name="teacherLogits">Teacher scores of the same shape; detached (no gradient reaches the teacher).</param>
    /// <param name="temperature">Softening temperature T; finite and greater than zero.</param>
    /// <param name="labels">
    /// Optional class indices of shape [...] (int64 or int32); positions whose label equals
    /// <paramref name="ignoreIndex"/> (padding) are left out of the sum and the mean.
    /// </param>
    /// <param name="ignoreIndex">The label value of positions to leave out.</param>
    /// <param name="mask">Optional tensor of shape [...]; positions where it is zero or false are left out.</param>
    /// <param name="chunking">
    /// How the rows are processed (<see cref="Chunking"/>): by default (<see cref="Chunking.Auto"/>), above a size, chunk by chunk,
    /// the gradient of the student logits computed in the forward pass with a custom backward, so memory stays near
    /// one gradient; <see cref="Chunking.Off"/> is plain autograd. Both give the same value and gradient.
    /// </param>
    /// <returns>
    /// The sum over kept positions of Σ q_s (log q_s − log p_t), times T², divided by the kept
    /// count; zero when nothing is kept. float32, or float64 when an input is float64.
    /// </returns>
    /// <exception cref="ArgumentNullException">A logits tensor is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not finite and positive.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor ReverseKl(
        Tensor studentLogits, Tensor teacherLogits, double temperature = 1.0, Tensor? labels = null, long ignoreIndex = -100, Tensor? mask = null,
        Chunking chunking = default) =>
        DistillationMean(studentLogits, teacherLogits, temperature, labels, ignoreIndex, mask, chunking,
            (studentLogProbs, teacherLogProbs) => KlPerPosition(studentLogProbs, teacherLogProbs));

    /// <summary>
    /// Generalized Jensen–Shannon divergence for distillation, as Liger Kernel's <c>LigerJSD</c>
    /// defines it: with P the teacher's and Q the student's softened distribution and
    /// M = β P + (1 − β) Q, JSD_β = β KL(P ‖ M) + (1 − β) KL(Q ‖ M), times T², averaged over the
    /// kept positions. β = 0 is the forward KL(P ‖ Q) and β = 1 the reverse KL(Q ‖ P), as in Liger Kernel.
    /// </summary>
    /// <param name="studentLogits">Student scores of shape [..., C], floating point, at least 1-dim.</param>
    /// <param name="teacherLogits">Teacher scores of the same shape; detached (no gradient reaches the teacher).</param>
    /// <param name="beta">The mixing weight β in [0, 1].</param>
    /// <param name="temperature">Softening temperature T; finite and greater than zero.</param>
    /// <param name="labels">Optional class indices of shape [...]; positions labelled <paramref name="ignoreIndex"/> are left out.</param>
    /// <param name="ignoreIndex">The label value of positions to leave out.</param>
    /// <param name="mask">Optional tensor of shape [...]; positions where it is zero or false are left out.</param>
    /// <param name="chunking">
    /// How the rows are processed (<see cref="Chunking"/>): by default (<see cref="Chunking.Auto"/>), above a size, chunk by chunk,
    /// the gradient of the student logits computed in the forward pass with a custom backward, so memory stays near
    /// one gradient; <see cref="Chunking.Off"/> is plain autograd. Both give the same value and gradient.
    /// </param>
    /// <returns>
    /// The mean over kept positions, times T²; zero when nothing is kept. log M is computed with
    /// log-sum-exp, so confident distributions lose no precision. float32, or float64 when an input is float64.
    /// </returns>
    /// <exception cref="ArgumentNullException">A logits tensor is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> or <paramref name="temperature"/> is out of range.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor JensenShannon(
        Tensor studentLogits, Tensor teacherLogits, double beta = 0.5, double temperature = 1.0, Tensor? labels = null,
        long ignoreIndex = -100, Tensor? mask = null, Chunking chunking = default)
    {
        if (!(beta >= 0 && beta <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"beta must be between 0 and 1, but it is {beta}.");
        }
        return DistillationMean(studentLogits, teacherLogits, temperature, labels, ignoreIndex, mask, chunking, (studentLogProbs, teacherLogProbs) =>
        {
            if (beta == 0)
            {
                return KlPerPosition(teacherLogProbs, studentLogProbs);
            }
            if (beta == 1)
            {
                return KlPerPosition(studentLogProbs, teacherLogProbs);
            }
            var mixtureLogProbs = torch.stack(new[] { teacherLogProbs + Math.Log(beta), studentLogProbs + Math.Log(1 - beta) }, 0).logsumexp(0);
            return KlPerPosition(teacherLogProbs, mixtureLogProbs) * beta + KlPerPosition(studentLogProbs, mixtureLogProbs) * (1 - beta);
        });
    }

    /// <summary>
    /// KL divergence restricted to the teacher's top-k classes, for large vocabularies: the
    /// teacher's softened distribution is cut to its k most likely classes and renormalised (P_k),
    /// and KL(P_k ‖ Q) = Σ_{i in top k} p_k,i (log p_k,i − log q_i) is taken against the student's
    /// full softened distribution Q, times T², averaged over the kept positions. With k = C it is
    /// <see cref="SoftTargetKl"/>.
    /// </summary>
    /// <param name="studentLogits">Student scores of shape [..., C], floating point, at least 1-dim.</param>
    /// <param name="teacherLogits">Teacher scores of the same shape; detached (no gradient reaches the teacher).</param>
    /// <param name="k">How many of the teacher's classes to keep, from 1 to C. Ties are broken as <c>torch.topk</c> breaks them.</param>
    /// <param name="temperature">Softening temperature T; finite and greater than zero.</param>
    /// <param name="labels">Optional class indices of shape [...]; positions labelled <paramref name="ignoreIndex"/> are left out.</param>
    /// <param name="ignoreIndex">The label value of positions to leave out.</param>
    /// <param name="mask">Optional tensor of shape [...]; positions where it is zero or false are left out.</param>
    /// <param name="chunking">
    /// How the rows are processed (<see cref="Chunking"/>): by default (<see cref="Chunking.Auto"/>), above a size, chunk by chunk,
    /// the gradient of the student logits computed in the forward pass with a custom backward, so memory stays near
    /// one gradient; <see cref="Chunking.Off"/> is plain autograd. Both give the same value and gradient.
    /// </param>
    /// <returns>The mean over kept positions, times T²; zero when nothing is kept. float32, or float64 when an input is float64.</returns>
    /// <exception cref="ArgumentNullException">A logits tensor is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> or <paramref name="temperature"/> is out of range.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor TopKKl(
        Tensor studentLogits, Tensor teacherLogits, int k, double temperature = 1.0, Tensor? labels = null, long ignoreIndex = -100,
        Tensor? mask = null, Chunking chunking = default)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        long classes = studentLogits.Dimensions >= 1 ? studentLogits.shape[^1] : 0;
        if (k < 1 || (studentLogits.Dimensions >= 1 && k > classes))
        {
            throw new ArgumentOutOfRangeException(
                nameof(k), k, $"k must be between 1 and the class count of student logits {FormatShape(studentLogits.shape)}, but it is {k}.");
        }
        return DistillationMean(studentLogits, teacherLogits, temperature, labels, ignoreIndex, mask, chunking, (studentLogProbs, teacherLogProbs) =>
        {
            var top = teacherLogProbs.topk(k, dim: -1).indexes;
            var teacherTopLogProbs = nn.functional.log_softmax(teacherLogProbs.gather(-1, top), -1);
            return KlPerPosition(teacherTopLogProbs, studentLogProbs.gather(-1, top));
        });
    }

    /// <summary>Σ_c a_c (log a_c − log b_c) along the last dimension; classes where a is zero contribute zero.</summary>
    private static Tensor KlPerPosition(Tensor firstLogProbs, Tensor secondLogProbs)
    {
        var first = firstLogProbs.exp();
        // Where a is 0 the term is 0; without the fill, (-inf) - (-inf) would make it NaN.
        return (first * (firstLogProbs - secondLogProbs)).masked_fill(first.eq(0), 0).sum(-1);
    }

    /// <summary>
    /// The checks every distillation term makes: both logits given, floating-point, of one shape
    /// with a class dimension, on one device, and a finite positive temperature.
    /// </summary>
    private static void RequireDistillationInputs(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        if (!double.IsFinite(temperature) || temperature <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(temperature), temperature, $"temperature must be finite and greater than zero, but it is {temperature}.");
        }
        RequireFloating(studentLogits, "student logits", nameof(studentLogits));
        RequireFloating(teacherLogits, "teacher logits", nameof(teacherLogits));
        RequireSameShape(studentLogits, "student logits", teacherLogits, "teacher logits", nameof(teacherLogits));
        RequireAtLeastOneDim(studentLogits, "student logits", nameof(studentLogits));
        RequireSameDevice(studentLogits, "student logits", teacherLogits, "teacher logits", nameof(teacherLogits));
    }

    /// <summary>
    /// The shared body of the distillation divergences: validates, softens both logits by the
    /// temperature in the compute type (the teacher detached), applies <paramref name="perPosition"/>
    /// to the student's and the teacher's log probabilities, and averages over kept positions × T².
    /// </summary>
    private static Tensor DistillationMean(
        Tensor studentLogits, Tensor teacherLogits, double temperature, Tensor? labels, long ignoreIndex, Tensor? mask, Chunking chunking,
        Func<Tensor, Tensor, Tensor> perPosition)
    {
        RequireDistillationInputs(studentLogits, teacherLogits, temperature);
        long[] positionShape = studentLogits.shape[..^1];
        if (labels is not null)
        {
            RequireSameDevice(studentLogits, "student logits", labels, "labels", nameof(labels));
            if (labels.dtype is not (ScalarType.Int64 or ScalarType.Int32) || !SameShape(labels.shape, positionShape))
            {
                throw new ArgumentException(
                    $"labels {FormatShape(labels.shape)} of dtype {labels.dtype} must be class indices (Int64 or Int32) with the shape of " +
                    $"student logits {FormatShape(studentLogits.shape)} without its last dimension, {FormatShape(positionShape)}.",
                    nameof(labels));
            }
        }
        if (mask is not null)
        {
            RequireSameDevice(studentLogits, "student logits", mask, "mask", nameof(mask));
            if (!SameShape(mask.shape, positionShape) || mask.is_complex())
            {
                throw new ArgumentException(
                    $"mask {FormatShape(mask.shape)} of dtype {mask.dtype} must be Bool or real with the shape of student logits " +
                    $"{FormatShape(studentLogits.shape)} without its last dimension, {FormatShape(positionShape)}.",
                    nameof(mask));
            }
        }

        using var scope = NewDisposeScope();
        ScalarType computeType = ComputeType(studentLogits.dtype, teacherLogits.dtype);
        long positions = Count(positionShape);
        Tensor? dropped = labels?.eq(ignoreIndex);
        if (mask is not null)
        {
            var maskDropped = mask.eq(0);
            dropped = dropped is null ? maskDropped : dropped.bitwise_or(maskDropped);
        }
        long classes = studentLogits.shape[^1];
        if (chunking.Chunks(positions, classes))
        {
            var rows = new RowTensors(
                AsRows(studentLogits), AsRows(teacherLogits), Labels: null, dropped?.reshape(positions), ClassWeight: null,
                InverseCount(dropped, positions, computeType, studentLogits.device));
            return scope.MoveToOuter(RunChunked(
                studentLogits, new DivergenceRows(computeType, chunking.RowsPerChunk(classes), temperature, perPosition), rows));
        }
        var studentLogProbs = nn.functional.log_softmax(studentLogits.to(computeType) / temperature, -1);
        var teacherLogProbs = nn.functional.log_softmax(teacherLogits.detach().to(computeType) / temperature, -1);
        var perValue = perPosition(studentLogProbs, teacherLogProbs);
        double scale = temperature * temperature;
        Tensor loss;
        if (dropped is null)
        {
            loss = perValue.sum() * (scale / Math.Max(positions, 1L));
        }
        else
        {
            // masked_fill, not multiplication: a dropped position's divergence may be inf or NaN.
            var kept = dropped.sum().neg().add(positions).to(computeType).clamp_min(1);
            loss = perValue.masked_fill(dropped, 0).sum() * scale / kept;
        }
        return scope.MoveToOuter(loss);
    }

    /// <summary>
    /// Cosine distance: the mean over positions of 1 − cos(a, b), the cosine taken along the last
    /// dimension as <c>torch.nn.functional.cosine_similarity</c> does with eps = 1e-8.
    /// </summary>
    /// <remarks>
    /// When a gradient is needed, a custom autograd function with a closed-form backward computes it (both inputs may
    /// need one): its gradient is not itself differentiable. For a gradient of a gradient, write the term with
    /// <c>cosine_similarity</c>. Its backward reads both inputs: one changed in place after the forward gives a NaN
    /// gradient (see <c>docs/language.md</c>, "The closed-form cosine").
    /// </remarks>
    /// <param name="a">Vectors of shape [..., D], floating point, at least 1-dim.</param>
    /// <param name="b">Vectors of the same shape as <paramref name="a"/>.</param>
    /// <returns>A scalar in [0, 2]; float32, or float64 when an input is float64.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="a"/> or <paramref name="b"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor CosineDistance(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        RequireFloating(a, "a", nameof(a));
        RequireFloating(b, "b", nameof(b));
        RequireSameShape(a, "a", b, "b", nameof(b));
        RequireAtLeastOneDim(a, "a", nameof(a));
        RequireSameDevice(a, "a", b, "b", nameof(b));

        using var scope = NewDisposeScope();
        ScalarType computeType = ComputeType(a.dtype, b.dtype);
        if (torch.is_grad_enabled() && (a.requires_grad || b.requires_grad))
        {
            // Applied to views, as the chunked terms are (RunChunked): a leaf then keeps the gradient without a copy.
            return scope.MoveToOuter(CosineDistanceFunction.apply(a.view(a.shape), b.view(b.shape), computeType));
        }
        return scope.MoveToOuter(new CosineRows(a, b, computeType).Loss);
    }

    /// <summary>
    /// Mean squared error over the elements of <paramref name="a"/> and <paramref name="b"/>, as
    /// <c>torch.nn.functional.mse_loss</c> with <c>reduction="mean"</c>, optionally masked and weighted.
    /// </summary>
    /// <param name="a">Floating-point values of any shape.</param>
    /// <param name="b">Values of the same shape as <paramref name="a"/>.</param>
    /// <param name="mask">
    /// Optional tensor of the same shape (bool or numeric); elements where it is zero or false are
    /// excluded from the sum and from the count that divides it.
    /// </param>
    /// <param name="weight">
    /// Optional per-element weights of the same shape, floating point: each element's squared error
    /// is multiplied by its weight and the mean still divides by the (kept) element count, as
    /// PyTorch's element weights do (for example <c>binary_cross_entropy(weight=)</c>). Treated as
    /// a constant (no gradient reaches it).
    /// </param>
    /// <returns>
    /// Σ w (a − b)² over kept elements divided by the kept count; zero, not NaN, when nothing is kept
    /// or the inputs are empty. Computed, like the other terms, in at least float32 (so float16
    /// squares cannot overflow); float64 when an input is float64.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="a"/> or <paramref name="b"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor Mse(Tensor a, Tensor b, Tensor? mask = null, Tensor? weight = null) =>
        ElementwiseMean(a, nameof(a), b, nameof(b), mask, weight, (x, y) => nn.functional.mse_loss(x, y, nn.Reduction.None));

    /// <summary>
    /// Mean absolute error, as <c>torch.nn.functional.l1_loss</c> with <c>reduction="mean"</c>,
    /// optionally masked and weighted like <see cref="Mse"/>.
    /// </summary>
    /// <param name="input">Floating-point values of any shape.</param>
    /// <param name="target">Values of the same shape as <paramref name="input"/>.</param>
    /// <param name="mask">Optional tensor of the same shape; elements where it is zero or false are excluded.</param>
    /// <param name="weight">Optional per-element weights of the same shape, floating point, constant; the mean divides by the kept count.</param>
    /// <returns>
    /// Σ w |input − target| over kept elements divided by the kept count; zero when nothing is kept.
    /// The gradient at a zero difference is zero, as in PyTorch. float32, or float64 when an input is float64.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> or <paramref name="target"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor L1(Tensor input, Tensor target, Tensor? mask = null, Tensor? weight = null) =>
        ElementwiseMean(input, nameof(input), target, nameof(target), mask, weight, (x, y) => nn.functional.l1_loss(x, y, nn.Reduction.None));

    /// <summary>
    /// Smooth L1 loss, as <c>torch.nn.functional.smooth_l1_loss</c> with <c>reduction="mean"</c>:
    /// per element, 0.5 d² / β where |d| &lt; β and |d| − 0.5 β elsewhere (d = input − target);
    /// optionally masked and weighted like <see cref="Mse"/>.
    /// </summary>
    /// <param name="input">Floating-point values of any shape.</param>
    /// <param name="target">Values of the same shape as <paramref name="input"/>.</param>
    /// <param name="beta">The threshold β, finite and at least zero; β = 0 is the L1 loss, as in PyTorch.</param>
    /// <param name="mask">Optional tensor of the same shape; elements where it is zero or false are excluded.</param>
    /// <param name="weight">Optional per-element weights of the same shape, floating point, constant; the mean divides by the kept count.</param>
    /// <returns>The weighted sum over kept elements divided by the kept count; zero when nothing is kept. float32, or float64 when an input is float64.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> or <paramref name="target"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor SmoothL1(Tensor input, Tensor target, double beta = 1.0, Tensor? mask = null, Tensor? weight = null)
    {
        if (!double.IsFinite(beta) || beta < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"beta must be finite and at least zero, but it is {beta}.");
        }
        if (beta == 0)
        {
            // 0.5 d² / β would divide by zero; PyTorch's β = 0 is the L1 loss.
            return ElementwiseMean(input, nameof(input), target, nameof(target), mask, weight, (x, y) => nn.functional.l1_loss(x, y, nn.Reduction.None));
        }
        return ElementwiseMean(input, nameof(input), target, nameof(target), mask, weight,
            (x, y) => nn.functional.smooth_l1_loss(x, y, nn.Reduction.None, beta));
    }

    /// <summary>
    /// Huber loss, as <c>torch.nn.functional.huber_loss</c> with <c>reduction="mean"</c>: per
    /// element, 0.5 d² where |d| &lt; δ and δ (|d| − 0.5 δ) elsewhere (d = input − target);
    /// optionally masked and weighted like <see cref="Mse"/>. Equal to δ × <see cref="SmoothL1"/> with β = δ.
    /// </summary>
    /// <param name="input">Floating-point values of any shape.</param>
    /// <param name="target">Values of the same shape as <paramref name="input"/>.</param>
    /// <param name="delta">The threshold δ, finite and greater than zero (as PyTorch requires).</param>
    /// <param name="mask">Optional tensor of the same shape; elements where it is zero or false are excluded.</param>
    /// <param name="weight">Optional per-element weights of the same shape, floating point, constant; the mean divides by the kept count.</param>
    /// <returns>The weighted sum over kept elements divided by the kept count; zero when nothing is kept. float32, or float64 when an input is float64.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> or <paramref name="target"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not finite and positive.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor Huber(Tensor input, Tensor target, double delta = 1.0, Tensor? mask = null, Tensor? weight = null)
    {
        if (!double.IsFinite(delta) || delta <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, $"delta must be finite and greater than zero, but it is {delta}.");
        }
        return ElementwiseMean(input, nameof(input), target, nameof(target), mask, weight,
            (x, y) => nn.functional.huber_loss(x, y, delta, nn.Reduction.None));
    }

    /// <summary>
    /// Binary cross-entropy on logits, as <c>torch.nn.functional.binary_cross_entropy_with_logits</c>
    /// with <c>reduction="mean"</c>: per element −w [p y log σ(x) + (1 − y) log(1 − σ(x))], computed
    /// stably in log space; optionally masked.
    /// </summary>
    /// <param name="logits">Unnormalised scores x of any shape, floating point.</param>
    /// <param name="targets">Targets y in [0, 1] (hard 0/1 or soft) of the same shape, floating point.</param>
    /// <param name="weight">
    /// Optional per-element weights w of the same shape, floating point (PyTorch's <c>weight</c>);
    /// the mean still divides by the kept count. Treated as a constant.
    /// </param>
    /// <param name="posWeight">
    /// Optional weights p of the positive term, one per class: shape [C], the last dimension of
    /// <paramref name="logits"/> (PyTorch's <c>pos_weight</c>). Treated as a constant.
    /// </param>
    /// <param name="mask">Optional tensor of the same shape; elements where it is zero or false are left out of the sum and the count.</param>
    /// <returns>
    /// The sum over kept elements divided by the kept count; zero, not NaN, when nothing is kept.
    /// float32, or float64 when an input is float64.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor BinaryCrossEntropyWithLogits(
        Tensor logits, Tensor targets, Tensor? weight = null, Tensor? posWeight = null, Tensor? mask = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (posWeight is not null)
        {
            RequireFloating(posWeight, "posWeight", nameof(posWeight));
            RequireSameDevice(logits, "logits", posWeight, "posWeight", nameof(posWeight));
            if (logits.Dimensions < 1 || posWeight.Dimensions != 1 || posWeight.shape[0] != logits.shape[^1])
            {
                throw new ArgumentException(
                    $"posWeight {FormatShape(posWeight.shape)} must have one weight per class: the shape of the last dimension of logits {FormatShape(logits.shape)}.",
                    nameof(posWeight));
            }
        }
        // -[p y log σ(x) + (1 - y) log(1 - σ(x))], by TorchSharp's fused op.
        return ElementwiseMean(logits, nameof(logits), targets, nameof(targets), mask, weight,
            (x, y) => nn.functional.binary_cross_entropy_with_logits(x, y, reduction: nn.Reduction.None, pos_weights: posWeight?.detach().to(x.dtype)),
            constant: posWeight);
    }

    /// <summary>
    /// Sigmoid focal loss of Lin et al., "Focal Loss for Dense Object Detection" (ICCV 2017),
    /// eq. 5: per element −α_t (1 − p_t)^γ log p_t, where p = σ(x), p_t = p y + (1 − p)(1 − y)
    /// and α_t = α y + (1 − α)(1 − y), averaged over kept elements (the formula of
    /// <c>torchvision.ops.sigmoid_focal_loss</c> with <c>reduction="mean"</c>).
    /// </summary>
    /// <param name="logits">Unnormalised scores x of any shape, floating point.</param>
    /// <param name="targets">Targets y in [0, 1] of the same shape, floating point.</param>
    /// <param name="alpha">The class balance α in [0, 1], or null for no α weighting.</param>
    /// <param name="gamma">The focusing exponent γ, finite and at least zero; γ = 0 is α-weighted binary cross-entropy.</param>
    /// <param name="mask">Optional tensor of the same shape; elements where it is zero or false are left out of the sum and the count.</param>
    /// <returns>
    /// The sum over kept elements divided by the kept count; zero when nothing is kept. The log
    /// term is computed in log space and 1 − p_t as y σ(−x) + (1 − y) σ(x), so confident logits
    /// lose no precision. float32, or float64 when an input is float64.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> or <paramref name="gamma"/> is out of range.</exception>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit together.</exception>
    public static Tensor Focal(Tensor logits, Tensor targets, double? alpha = 0.25, double gamma = 2.0, Tensor? mask = null)
    {
        if (alpha is double a && !(a >= 0 && a <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), a, $"alpha must be between 0 and 1 (or null for none), but it is {a}.");
        }
        if (!double.IsFinite(gamma) || gamma < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"gamma must be finite and at least zero, but it is {gamma}.");
        }
        return ElementwiseMean(logits, nameof(logits), targets, nameof(targets), mask, weight: null, (x, y) =>
        {
            var negativeTargets = y.neg().add(1);
            var perValue = nn.functional.softplus(x.neg()) * y + nn.functional.softplus(x) * negativeTargets;
            if (gamma != 0)
            {
                var missed = torch.sigmoid(x.neg()) * y + torch.sigmoid(x) * negativeTargets;
                perValue = perValue * missed.pow(gamma);
            }
            if (alpha is double balance)
            {
                perValue = perValue * (y * balance + negativeTargets * (1 - balance));
            }
            return perValue;
        });
    }

    /// <summary>
    /// The shared body of the element-wise regression terms: validates, upcasts, applies
    /// <paramref name="perElement"/> to the two inputs, weights, masks and averages over kept elements.
    /// A float64 <paramref name="constant"/> (a tensor that <paramref name="perElement"/> reads) makes the computation float64.
    /// </summary>
    private static Tensor ElementwiseMean(
        Tensor first, string firstName, Tensor second, string secondName, Tensor? mask, Tensor? weight, Func<Tensor, Tensor, Tensor> perElement,
        Tensor? constant = null)
    {
        ArgumentNullException.ThrowIfNull(first, firstName);
        ArgumentNullException.ThrowIfNull(second, secondName);
        RequireFloating(first, firstName, firstName);
        RequireFloating(second, secondName, secondName);
        RequireSameShape(first, firstName, second, secondName, secondName);
        RequireSameDevice(first, firstName, second, secondName, secondName);
        if (mask is not null)
        {
            RequireSameShape(first, firstName, mask, "mask", nameof(mask));
            RequireSameDevice(first, firstName, mask, "mask", nameof(mask));
            if (mask.is_complex())
            {
                throw new ArgumentException($"the dtype of mask {FormatShape(mask.shape)} is {mask.dtype}; expected Bool or a real number type.", nameof(mask));
            }
        }
        if (weight is not null)
        {
            RequireFloating(weight, "weight", nameof(weight));
            RequireSameShape(first, firstName, weight, "weight", nameof(weight));
            RequireSameDevice(first, firstName, weight, "weight", nameof(weight));
        }

        using var scope = NewDisposeScope();
        ScalarType computeType = ComputeType(first.dtype, second.dtype);
        if (weight is not null)
        {
            computeType = ComputeType(computeType, weight.dtype);
        }
        if (constant is not null)
        {
            computeType = ComputeType(computeType, constant.dtype);
        }
        var perValue = perElement(first.to(computeType), second.to(computeType));
        if (weight is not null)
        {
            perValue = perValue * weight.detach().to(computeType);
        }
        long count = Count(first.shape);
        Tensor loss;
        if (mask is null)
        {
            loss = perValue.sum() / (double)Math.Max(count, 1L);
        }
        else
        {
            // masked_fill, not multiplication: an excluded element's loss may be inf or NaN.
            var dropped = mask.eq(0);
            var kept = dropped.sum().neg().add(count).to(computeType).clamp_min(1);
            loss = perValue.masked_fill(dropped, 0).sum() / kept;
        }
        return scope.MoveToOuter(loss);
    }

    /// <summary>
    /// <see cref="CrossEntropy"/> with class-index labels on the chunked path: the rows left out (ignore index or
    /// mask), the labels with ignored ones replaced by 0, and the denominator, all computed once from the labels.
    /// </summary>
    private static Tensor ChunkedCrossEntropy(
        Tensor logits, Tensor labels, long ignoreIndex, Tensor? mask, double labelSmoothing, Tensor? classWeight, ScalarType computeType,
        Chunking chunking)
    {
        long positions = Count(logits.shape[..^1]);
        var index = labels.to(ScalarType.Int64).reshape(positions);
        var dropped = index.eq(ignoreIndex);
        if (mask is not null)
        {
            dropped.bitwise_or_(mask.reshape(positions).eq(0));
        }
        // Left-out rows read class 0 (any valid index would do); their loss and gradient are zeroed.
        var safeIndex = index.masked_fill(dropped, 0);
        Tensor inverse;
        if (classWeight is null)
        {
            inverse = InverseCount(dropped, positions, computeType, logits.device);
        }
        else
        {
            // PyTorch's weighted mean: divided by the kept labels' class weights; zero where they sum to zero.
            var weightSum = classWeight.gather(0, safeIndex).masked_fill_(dropped, 0).sum();
            inverse = weightSum.reciprocal().masked_fill_(weightSum.eq(0), 0);
        }
        var rows = new RowTensors(AsRows(logits), Teacher: null, safeIndex, dropped, classWeight, inverse);
        long classes = logits.shape[^1];
        return RunChunked(logits, new CrossEntropyRows(computeType, chunking.RowsPerChunk(classes), labelSmoothing), rows);
    }

    /// <summary>A detached [N, C] view (or copy) of logits of shape [..., C].</summary>
    private static Tensor AsRows(Tensor logits) => logits.detach().reshape(Count(logits.shape[..^1]), logits.shape[^1]);

    /// <summary>
    /// 1 / the number of kept rows as a 0-dim tensor of <paramref name="computeType"/>, zero when nothing is kept;
    /// counted on the device when <paramref name="dropped"/> is given.
    /// </summary>
    private static Tensor InverseCount(Tensor? dropped, long positions, ScalarType computeType, Device device)
    {
        if (dropped is null)
        {
            return torch.tensor(1.0 / Math.Max(positions, 1L), dtype: computeType, device: device);
        }
        var kept = dropped.sum().neg_().add_(positions).to(computeType);
        return kept.reciprocal().masked_fill_(kept.eq(0), 0);
    }

    // ---- Validation and dtype helpers: metadata only, never a host synchronisation. ----

    private static bool IsFloating(ScalarType type) =>
        type is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>float64 if any input is float64, otherwise float32 (float16/bfloat16 are upcast).</summary>
    private static ScalarType ComputeType(ScalarType first, ScalarType second = ScalarType.Float32) =>
        first == ScalarType.Float64 || second == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    private static void RequireFloating(Tensor value, string description, string paramName)
    {
        if (!IsFloating(value.dtype))
        {
            throw new ArgumentException(
                $"the dtype of {description} {FormatShape(value.shape)} is {value.dtype}; expected Float16, BFloat16, Float32 or Float64.",
                paramName);
        }
    }

    private static void RequireAtLeastOneDim(Tensor value, string description, string paramName)
    {
        if (value.Dimensions < 1)
        {
            throw new ArgumentException(
                $"{description} {FormatShape(value.shape)} must have at least one dimension: the last one is reduced over.",
                paramName);
        }
    }

    private static void RequireSameShape(Tensor first, string firstDescription, Tensor second, string secondDescription, string paramName)
    {
        if (!SameShape(first.shape, second.shape))
        {
            throw new ArgumentException(
                $"{firstDescription} {FormatShape(first.shape)} and {secondDescription} {FormatShape(second.shape)} must have the same shape.",
                paramName);
        }
    }

    private static void RequireSameDevice(Tensor first, string firstDescription, Tensor second, string secondDescription, string paramName)
    {
        if (first.device_type != second.device_type || first.device_index != second.device_index)
        {
            throw new ArgumentException(
                $"{firstDescription} {FormatShape(first.shape)} on {first.device} and {secondDescription} {FormatShape(second.shape)} " +
                $"on {second.device} must be on the same device.",
                paramName);
        }
    }

    private static bool SameShape(long[] first, long[] second) => first.AsSpan().SequenceEqual(second);

    private static long Count(long[] shape)
    {
        long count = 1;
        foreach (long size in shape)
        {
            count *= size;
        }
        return count;
    }

    private static string FormatShape(long[] shape) => $"[{string.Join(", ", shape)}]";
}
