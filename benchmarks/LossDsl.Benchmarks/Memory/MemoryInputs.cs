using System;
using System.Globalization;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Memory;

/// <summary>Logits batch × sequence × vocabulary, written as the children and the Python script read it ("4x512x32768").</summary>
public readonly record struct LogitsShape(long Batch, long Sequence, long Vocabulary)
{
    /// <summary>The peak-memory benchmark's size: two float32 logits tensors of 268 MB each.</summary>
    public static readonly LogitsShape Large = new(4, 512, 32768);

    /// <summary>Batch × sequence: the positions a loss averages over.</summary>
    public long Positions => Batch * Sequence;

    /// <summary>Bytes of one float32 logits tensor.</summary>
    public long Bytes => Positions * Vocabulary * sizeof(float);

    /// <summary>Features for the full distillation loss: 4 layers × batch × sequence × 256.</summary>
    public long[] FeatureShape => new[] { 4, Batch, Sequence, 256L };

    /// <summary>Reads "BxSxV" (three positive integers).</summary>
    public static LogitsShape Parse(string text)
    {
        string[] parts = text.Split('x');
        var sizes = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] <= 0)
            {
                sizes = Array.Empty<long>();
                break;
            }
        }
        return sizes.Length == 3
            ? new LogitsShape(sizes[0], sizes[1], sizes[2])
            : throw new ArgumentException($"'{text}' is not a logits shape: expected batch x sequence x vocabulary, for example 4x512x32768.");
    }

    public override string ToString() => $"{Batch}x{Sequence}x{Vocabulary}";
}

/// <summary>
/// One child's inputs, made from seed 7: student logits (a leaf requiring grad), teacher logits,
/// class-index labels, and, for the full loss, student (requiring grad) and teacher features.
/// </summary>
public sealed class MemoryInputs : IDisposable
{
    public MemoryInputs(LogitsShape shape, bool features)
    {
        Shape = shape;
        manual_seed(7);
        Student = randn(shape.Batch, shape.Sequence, shape.Vocabulary).requires_grad_();
        Teacher = randn(shape.Batch, shape.Sequence, shape.Vocabulary);
        Labels = randint(shape.Vocabulary, new[] { shape.Batch, shape.Sequence });
        if (features)
        {
            StudentFeatures = randn(shape.FeatureShape).requires_grad_();
            TeacherFeatures = randn(shape.FeatureShape);
        }
    }

    public LogitsShape Shape { get; }
    public Tensor Student { get; }
    public Tensor Teacher { get; }
    public Tensor Labels { get; }
    public Tensor? StudentFeatures { get; }
    public Tensor? TeacherFeatures { get; }

    /// <summary>Releases the gradients a backward wrote, as an optimizer's <c>zero_grad(set_to_none)</c> does.</summary>
    public void ReleaseGradients()
    {
        Student.grad = null;
        if (StudentFeatures is not null)
        {
            StudentFeatures.grad = null;
        }
    }

    public void Dispose()
    {
        Student.Dispose();
        Teacher.Dispose();
        Labels.Dispose();
        StudentFeatures?.Dispose();
        TeacherFeatures?.Dispose();
    }
}
