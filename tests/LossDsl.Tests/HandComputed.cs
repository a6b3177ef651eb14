using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// Independent references computed by hand in double precision from tensors' values (no torch
/// ops), and the random inputs the tests share.
/// </summary>
internal static class HandComputed
{
    internal static double RefCrossEntropyIndex(double[] logits, long[] labels, int classes, long ignoreIndex, bool[]? keep)
    {
        double total = 0;
        int count = 0;
        for (int row = 0; row < labels.Length; row++)
        {
            if (labels[row] == ignoreIndex || (keep is not null && !keep[row]))
            {
                continue;
            }
            total -= LogSoftmax(logits, row * classes, classes)[labels[row]];
            count++;
        }
        return total / Math.Max(count, 1);
    }

    internal static double RefCrossEntropyProbabilities(double[] logits, double[] probabilities, int classes, bool[]? keep)
    {
        int rows = logits.Length / classes;
        double total = 0;
        int count = 0;
        for (int row = 0; row < rows; row++)
        {
            if (keep is not null && !keep[row])
            {
                continue;
            }
            var logProbs = LogSoftmax(logits, row * classes, classes);
            for (int k = 0; k < classes; k++)
            {
                double p = probabilities[row * classes + k];
                if (p != 0)
                {
                    total -= p * logProbs[k];
                }
            }
            count++;
        }
        return total / Math.Max(count, 1);
    }

    internal static double RefKl(double[] student, double[] teacher, int classes, double temperature)
    {
        int rows = student.Length / classes;
        var s = student.Select(v => v / temperature).ToArray();
        var t = teacher.Select(v => v / temperature).ToArray();
        double total = 0;
        for (int row = 0; row < rows; row++)
        {
            var logPs = LogSoftmax(s, row * classes, classes);
            var logPt = LogSoftmax(t, row * classes, classes);
            for (int k = 0; k < classes; k++)
            {
                double pt = Math.Exp(logPt[k]);
                if (pt > 0)
                {
                    total += pt * (logPt[k] - logPs[k]);
                }
            }
        }
        return total / rows * temperature * temperature;
    }

    internal static double RefCosineDistance(double[] a, double[] b, int size)
    {
        const double eps = 1e-8;
        int rows = a.Length / size;
        double total = 0;
        for (int row = 0; row < rows; row++)
        {
            double dot = 0, aa = 0, bb = 0;
            for (int k = row * size; k < (row + 1) * size; k++)
            {
                dot += a[k] * b[k];
                aa += a[k] * a[k];
                bb += b[k] * b[k];
            }
            total += 1 - dot / (Math.Max(Math.Sqrt(aa), eps) * Math.Max(Math.Sqrt(bb), eps));
        }
        return total / rows;
    }

    internal static double RefMse(double[] a, double[] b)
    {
        double total = 0;
        for (int i = 0; i < a.Length; i++)
        {
            total += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return total / a.Length;
    }

    internal static double[] LogSoftmax(double[] values, int offset, int count)
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < count; k++)
        {
            max = Math.Max(max, values[offset + k]);
        }
        double sum = 0;
        for (int k = 0; k < count; k++)
        {
            sum += Math.Exp(values[offset + k] - max);
        }
        double logSum = max + Math.Log(sum);
        var result = new double[count];
        for (int k = 0; k < count; k++)
        {
            result[k] = values[offset + k] - logSum;
        }
        return result;
    }

    internal static double[] Softmax(double[] values, int offset, int count) =>
        LogSoftmax(values, offset, count).Select(Math.Exp).ToArray();

    internal static Tensor RandomTensor(Random rng, long[] shape, double scale = 1, ScalarType type = ScalarType.Float64, bool requiresGrad = false)
    {
        long count = shape.Aggregate(1L, (x, y) => x * y);
        var values = new double[count];
        for (int i = 0; i < values.Length; i++)
        {
            // Roughly normal: the sum of three uniforms, centred.
            values[i] = scale * (rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5);
        }
        var result = tensor(values, shape).to(type);
        return requiresGrad ? result.requires_grad_(true) : result;
    }

    /// <summary>A loss value: positive, spread over a few orders of magnitude (e⁻² to e²).</summary>
    internal static double RandomLoss(Random rng) => Math.Exp(4 * rng.NextDouble() - 2);

    /// <summary>Class indices for logits of <paramref name="shape"/>: shape without its last dimension.</summary>
    internal static Tensor RandomLabels(Random rng, long[] shape)
    {
        long[] positions = shape[..^1];
        long count = positions.Aggregate(1L, (x, y) => x * y);
        var values = new long[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = rng.Next((int)shape[^1]);
        }
        return tensor(values, positions);
    }

    internal static int Classes(long[] shape) => (int)shape[^1];

    internal static double[] Read(Tensor t) => t.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();

    internal static long[] ReadLongs(Tensor t) => t.to(ScalarType.Int64).contiguous().data<long>().ToArray();
}
