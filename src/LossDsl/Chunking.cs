using System;

namespace LossDsl;

/// <summary>
/// How a term over a class dimension (<see cref="Losses.CrossEntropy"/>, <see cref="Losses.SoftTargetKl"/>,
/// <see cref="Losses.ReverseKl"/>, <see cref="Losses.JensenShannon"/>, <see cref="Losses.TopKKl"/>) processes its rows
/// (positions): in chunks, each producing its part of the loss and of the student's gradient, or all at once through
/// plain autograd.
/// </summary>
/// <remarks>
/// The chunked path computes the value and, when a gradient is needed, the gradient of the student logits in the
/// forward pass, chunk by chunk, into one buffer of the student's shape; its custom backward hands that buffer
/// over. Nothing class-sized is kept per chunk beyond that buffer, so peak memory stays near one gradient. See
/// <c>docs/language.md</c>, "Large vocabularies: chunking".
/// </remarks>
public readonly struct Chunking : IEquatable<Chunking>
{
    /// <summary>The number of elements (rows × classes) <see cref="Auto"/> puts in one chunk at most: 2^20.</summary>
    public const long AutoChunkElements = 1L << 20;

    // 0: Auto (so default(Chunking) is Auto); -1: Off; > 0: rows per chunk.
    private readonly long rows;

    private Chunking(long rows) => this.rows = rows;

    /// <summary>
    /// The default (equal to <c>default(Chunking)</c>): the chunked path with chunks of at most
    /// <see cref="AutoChunkElements"/> elements (at least one row each), so an input of up to that size is one chunk.
    /// </summary>
    public static Chunking Auto => default;

    /// <summary>The plain autograd path: the term's unchunked math, differentiated by autograd.</summary>
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
    public bool IsOff => rows < 0;

    /// <summary>Whether this is <see cref="Auto"/>.</summary>
    public bool IsAuto => rows == 0;

    /// <summary>
    /// The rows per chunk for an input of <paramref name="classes"/> classes: the set count, or under
    /// <see cref="Auto"/> as many as fit in <see cref="AutoChunkElements"/> (at least one).
    /// </summary>
    /// <exception cref="InvalidOperationException">This is <see cref="Off"/>.</exception>
    public long RowsPerChunk(long classes)
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
