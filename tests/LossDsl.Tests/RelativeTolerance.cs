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

    /// <summary>The same for a 0-dim tensor of any floating type, read as a double (no tensor is created).</summary>
    public static void AssertClose(double expected, Tensor actual, double tolerance, string? context = null)
    {
        using Scalar value = actual.ToScalar();
        AssertClose(expected, value.ToDouble(), tolerance, context);
    }
}
