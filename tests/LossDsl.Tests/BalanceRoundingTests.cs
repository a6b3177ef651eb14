using System;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static LossDsl.Tests.RelativeTolerance;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// Balance never builds a scale from rounding residue: a value that cancels to 0 in exact
/// arithmetic counts as 0 in every dtype, so float32 and float64 agree on when a guard applies,
/// and a scale always stays within its dtype's positive normal range.
/// </summary>
public class BalanceRoundingTests
{
    private static double Value(Tensor t) => t.to(ScalarType.Float64).item<double>();

    [Fact]
    public void A_float32_cancellation_is_not_balanced_up_to_a_huge_scale()
    {
        // Kd = soft + feature · |soft| / |feature| is 0 exactly; in float32 its residue is about 2e-8.
        using var scope = NewDisposeScope();
        var loss = new GivenTermsDistillation();
        Tensor hard = tensor(2.3f), soft = tensor(0.7f).requires_grad_(true), feature = tensor(-0.4f);

        using var result = loss.Compute(hard, soft, feature);
        result.Total.backward();

        Assert.Equal(1.0, Value(result.KdScale));
        AssertClose(2.3, Value(result.Total), 1e-6, "total");
        AssertClose(0.5, Value(soft.grad!), 1e-6, "d total / d soft");
    }

    [Fact]
    public void A_float32_cancellation_is_not_balanced_up_by_the_moving_average_either()
    {
        using var scope = NewDisposeScope();
        var loss = new GivenTermsEmaDistillation();
        for (int step = 0; step < 5; step++)
        {
            using var result = loss.Compute(tensor(2.3f), tensor(0.7f), tensor(-0.4f));
            Assert.Equal(1.0, Value(result.KdScale));
            AssertClose(2.3, Value(result.Total), 1e-6, $"step {step}");
        }
    }

    [Fact]
    public void Cancellation_carried_through_numbers_and_weightings_is_recognised()
    {
        using var scope = NewDisposeScope();
        var loss = new CancellingCombinations();
        // Kd is float32 residue (about 2e-8); 3·Kd and Dwa(Kd, 0) (weights 1 at first) carry it on.
        using var result = loss.Compute(tensor(0.7f), tensor(-0.4f), tensor(3f), tensor(0f));
        Assert.NotEqual(0.0, Value(result.Kd)); // the residue this test is about
        Assert.Equal(1.0, Value(result.BalanceScale));
        Assert.Equal(1.0, Value(result.BalanceScale2));
    }

    [Fact]
    public void The_float32_sweep_agrees_with_float64_on_every_decision_and_every_scale()
    {
        // The PR 4220 formula over random terms of both signs: half the cases cancel Kd exactly.
        var rng = new Random(20261129);
        int cancelled = 0;
        for (int i = 0; i < 10_000; i++)
        {
            float Draw() => (rng.Next(2) == 0 ? -1f : 1f) * (float)Math.Pow(10, rng.NextDouble() * 6 - 3);
            float hardValue = Draw(), softValue = Draw(), featureValue = Draw();
            var (scale32, kd32, total32, grad32) = Run(ScalarType.Float32, hardValue, softValue, featureValue);
            var (scale64, kd64, total64, grad64) = Run(ScalarType.Float64, hardValue, softValue, featureValue);
            string where = $"case {i}: hard {hardValue:R}, soft {softValue:R}, feature {featureValue:R}";

            if (Math.Sign(softValue) != Math.Sign(featureValue))
            {
                cancelled++;
                Assert.True(scale64 == 1.0, $"{where}: float64 did not guard the cancelled Kd ({scale64:R})");
            }
            // The same decision, and the same scale up to float32 rounding.
            AssertClose(scale64, scale32, 1e-5, $"{where}: kd scale");
            // The total up to float32 rounding of the magnitudes it is computed from (Kd's residue included).
            double magnitudes = Math.Abs(hardValue) + 0.5 * 2 * Math.Abs(softValue) * scale64;
            Assert.True(Math.Abs(total32 - total64) <= 1e-6 * magnitudes, $"{where}: total {total32:R} against {total64:R}");
            AssertClose(grad64, grad32, 1e-5, $"{where}: d total / d soft");
            Assert.True(Math.Abs(kd32 - kd64) <= 1e-6 * (Math.Abs(softValue) * 2), $"{where}: kd {kd32:R} against {kd64:R}");
        }
        Assert.InRange(cancelled, 4_500, 5_500);
    }

    private static (double Scale, double Kd, double Total, double Gradient) Run(ScalarType type, float hard, float soft, float feature)
    {
        using var scope = NewDisposeScope();
        var loss = new GivenTermsDistillation();
        Tensor s = tensor((double)soft, type).requires_grad_(true);
        using var result = loss.Compute(tensor((double)hard, type), s, tensor((double)feature, type));
        result.Total.backward();
        return (Value(result.KdScale), Value(result.Kd), Value(result.Total), Value(s.grad!));
    }

    [Fact]
    public void A_float32_scale_neither_underflows_to_zero_nor_overflows_to_infinity()
    {
        using var scope = NewDisposeScope();
        var loss = new GivenTermsDistillation();

        // |soft| / |feature| = 2e-8 / 1e38 = 2e-46: below float32's smallest subnormal.
        using (var result = loss.Compute(tensor(1f), tensor(2e-8f), tensor(1e38f)))
        {
            Assert.Equal(1.1754943508222875e-38, Value(result.FeatureScale));
        }
        // 1e38 / 2e-8 = 5e45: beyond float32's largest finite value.
        using (var result = loss.Compute(tensor(1f), tensor(1e38f), tensor(2e-8f)))
        {
            Assert.Equal(3.4028234663852886e+38, Value(result.FeatureScale));
        }
    }

    [Fact]
    public void A_nearly_cancelling_value_that_is_not_residue_is_still_balanced()
    {
        // 1 − 0.999: a difference a thousand times larger than the tolerance is a real loss.
        using var scope = NewDisposeScope();
        var loss = new CancellingCombinations();
        using var result = loss.Difference(tensor(1f), tensor(0.999f), tensor(3f));
        AssertClose(3.0 / (1.0 - 0.999), Value(result.BalanceScale), 1e-3, "scale");
    }
}
