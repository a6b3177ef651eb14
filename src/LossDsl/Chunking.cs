using System;

namespace LossDsl;

/// <summary>
/// How a term over a class dimension (<see cref="Losses.CrossEntropy"/>, <see cref="Losses.SoftTargetKl"/>,
/// <see cref="Losses.ReverseKl"/>, <see cref="Losses.JensenShannon"/>, <see cref="Losses.TopKKl"/>) processes its rows
/// (positions): in chunks, each producing its part of the loss and of the student's gradient, or all at once through
/// plain autograd.
/// </summary>
/// <remarks>
/// The chunked path computes the value chunk by chunk and, when a gradient is needed, the gradient of the student
/// logits chunk by chunk into one buffer of the student's shape: in the forward pass, handed over by its custom
/// backward, or, for <see cref="Losses.SoftTargetKl"/>, in the backward pass. Nothing class-sized is kept per chunk
/// beyond that buffer (but <see cref="Losses.SoftTargetKl"/>'s teacher probabilities under <see cref="Auto"/> up to its
/// threshold, where the chunks are for speed), so peak memory stays near one gradient. A custom backward's gradient is
/// not itself differentiable: for a gradient of a gradient, use <see cref="Off"/>. See <c>docs/language.md</c>, "Large
/// vocabularies: chunking".
/// </remarks>
public readonly struct Chunking : IEquatable<Chunking>
{
    /// <summary>
    /// Inputs with more elements (rows × classes) than this, 2^22 (16 MB of float32), take the chunked path under
    /// <see cref="Auto"/>; smaller ones the plain autograd path, which measured faster there.
    /// </summary>
    internal const long AutoThresholdElements = 1L << 22;

    /// <summary>
    /// <see cref="Losses.SoftTargetKl"/>'s threshold under <see cref="Auto"/>, 2^20 (4 MB of float32): its chunked
    /// path, with a closed-form gradient, measured faster than the plain one, forward and forward+backward, at
    /// 8x128x4096 (benchmarks/README.md, "Terms"), where the other terms' chunked paths measured slower.
    /// </summary>
    internal const long SoftTargetKlAutoThresholdElements = 1L << 20;

    /// <summary>
    /// The number of elements (rows × classes) <see cref="Auto"/> puts in one chunk at most: 2^18 (1 MB of float32), so
    /// that the chunks' temporaries stay small beside the gradient (docs/language.md, "Large vocabularies: chunking").
    /// </summary>
    internal const long AutoChunkElements = 1L << 18;

    // 0: Auto (so default(Chunking) is Auto); -1: Off; > 0: rows per chunk.
    private readonly long rows;

    private Chunking(long rows) => this.rows = rows;

    /// <summary>
    /// The default (equal to <c>default(Chunking)</c>): inputs of more than 2^22 elements (rows × classes; 2^20 for
    /// <see cref="Losses.SoftTargetKl"/>) take the chunked path, in chunks of at most 2^18 elements (at least one row
    /// each); smaller ones the plain autograd path.
    /// </summary>
    public static Chunking Auto => default;

    /// <summary>
    /// The plain autograd path: the term's unchunked math, differentiated by autograd (so its gradient can itself be
    /// differentiated).
    /// </summary>
    public static Chunking Off { get; } = new(-1);

    /// <summary>The chunked path with <paramref name="rows"/> rows (positions) per chunk.</summary>
    /// <param name="rows">Rows per chunk, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1.</exception>
    public static Chunking Rows(long rows)
    {
        if (rows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a chunk must have at least one row, but rows is {rows}.");
        }
        return new Chunking(rows);
    }

    /// <summary>Whether this is <see cref="Off"/>.</summary>
    internal bool IsOff => rows < 0;

    /// <summary>Whether this is <see cref="Auto"/>.</summary>
    internal bool IsAuto => rows == 0;

    /// <summary>
    /// Whether an input of <paramref name="rows"/> × <paramref name="classes"/> takes the chunked path, with
    /// <paramref name="autoThreshold"/> elements as <see cref="Auto"/>'s threshold.
    /// </summary>
    internal bool Chunks(long rows, long classes, long autoThreshold = AutoThresholdElements) =>
        !IsOff && (!IsAuto || (double)rows * classes > autoThreshold);

    /// <summary>
    /// Whether a term that computes its gradient in backward keeps, from the forward pass, what its gradient reads
    /// (for <see cref="Losses.SoftTargetKl"/>, the teacher's probabilities: a tensor of the input's size) instead of
    /// recomputing it: under <see cref="Auto"/> for inputs of at most <see cref="AutoThresholdElements"/>, where the
    /// chunks are for speed; not above, nor with <see cref="Rows"/>, where they are for memory.
    /// </summary>
    internal bool KeepsForBackward(long elements) => IsAuto && elements <= AutoThresholdElements;

    /// <summary>
    /// The rows per chunk for an input of <paramref name="classes"/> classes: the set count, or under
    /// <see cref="Auto"/> as many as fit in <see cref="AutoChunkElements"/> (at least one).
    /// </summary>
    /// <exception cref="InvalidOperationException">This is <see cref="Off"/>.</exception>
    internal long RowsPerChunk(long classes)
    {
        if (IsOff)
        {
            throw new InvalidOperationException("Chunking.Off has no chunk size.");
        }
        return IsAuto ? Math.Max(1L, AutoChunkElements / Math.Max(classes, 1L)) : rows;
    }

    /// <inheritdoc/>
    public bool Equals(Chunking other) => rows == other.rows;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Chunking other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => rows.GetHashCode();

    /// <summary>Whether two settings are the same.</summary>
    public static bool operator ==(Chunking left, Chunking right) => left.Equals(right);

    /// <summary>Whether two settings differ.</summary>
    public static bool operator !=(Chunking left, Chunking right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => IsAuto ? "Auto" : IsOff ? "Off" : $"Rows({rows})";
}
