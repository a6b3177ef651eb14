using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The relative-tolerance assertion of the runtime tests: values computed by hand in double
/// precision against values computed by TorchSharp, whose rounding scales with the value.
/// </summary>
internal static class RelativeTolerance
{
    /// <summary>
    /// Asserts |<paramref name="actual"/> − <paramref name="expected"/>| ≤
    /// <paramref name="tolerance"/> · |<paramref name="expected"/>|, for a finite
    /// <paramref name="expected"/> (a reference that is not finite is a broken test, not a pass).
    /// </summary>
    /// <param name="context">Where the values come from (for example <c>step 3</c>), put before the failure message.</param>
    public static void AssertClose(double expected, double actual, double tolerance, string? context = null)
    {
        string where = context is null ? "" : context + ": ";
        Assert.True(double.IsFinite(expected), $"{where}reference is {expected}");
        double error = Math.Abs(actual - expected);
        Assert.True(
            error <= tolerance * Math.Abs(expected),
            $"{where}expected {expected:R}, got {actual:R}: relative error {error / Math.Abs(expected):E2} > {tolerance:E0}");
    }

    /// <summary>
    /// Element by element, |<paramref name="actual"/> − <paramref name="expected"/>| ≤ <paramref name="tolerance"/> ×
    /// the largest |<paramref name="expected"/>| (for gradients, whose small elements carry the large ones' rounding), for
    /// tensors of one shape; an expected tensor of zeros is a broken test, not a pass. Empty tensors only compare shapes.
    /// </summary>
    public static void AssertElementsClose(Tensor expected, Tensor actual, double tolerance, string context)
    {
        Assert.Equal(expected.shape, actual.shape);
        if (expected.numel() == 0)
        {
            return;
        }
        using var scope = NewDisposeScope();
        var want = expected.to(ScalarType.Float64);
        var got = actual.to(ScalarType.Float64);
        double scale = want.abs().max().item<double>();
        Assert.True(scale > 0, $"{context}: the reference is zero");
        double error = (got - want).abs().max().item<double>();
        Assert.True(error <= tolerance * scale, $"{context}: error {error:E2} > {tolerance:E0} × {scale:E2}");
    }

    /// <summary>The same for a 0-dim tensor of any floating type, read as a double (no tensor is created).</summary>
    public static void AssertClose(double expected, Tensor actual, double tolerance, string? context = null)
    {
        using Scalar value = actual.ToScalar();
        AssertClose(expected, value.ToDouble(), tolerance, context);
    }
}
