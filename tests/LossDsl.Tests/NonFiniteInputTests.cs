using System;
using System.Linq;
using LossDsl.State;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static LossDsl.Tests.HandComputed;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// One bad batch cannot ruin the state: a NaN or infinite observation, or one whose update
/// would overflow a statistic, is not an update. The statistics and counts it would have changed
/// stay as they were, the later finite batches give what they give without it (checked against
/// computations by hand that leave it out), and the result's <c>skipped_updates</c> counts it.
/// </summary>
public class NonFiniteInputTests
{
    private const double Tolerance = 1e-9;

    [Fact]
    public void AFreshStatesStatisticsAreFloat64()
    {
        var site = new EmaBalanceLoss().ComputeState.Site<EmaBalanceState>("balance0");

        Assert.Equal(ScalarType.Float64, site.Statistic("mx").dtype);
    }

    [Fact]
    public void EmaBalanceSkipsNaNAndInfiniteBatchesAndCountsThem()
    {
        var loss = new EmaBalanceLoss();
        var random = new Random(11);
        double beta = 0.9, mx = 0, my = 0;
        int updates = 0, skipped = 0;
        for (int call = 0; call < 60; call++)
        {
            using var scope = NewDisposeScope();
            double hard = RandomLoss(random), soft = RandomLoss(random);
            if (call == 5) soft = double.NaN;
            if (call == 9) hard = double.PositiveInfinity;
            if (call == 12) soft = double.NegativeInfinity;
            using var result = loss.Compute(tensor(hard), tensor(soft));

            if (double.IsFinite(hard) && double.IsFinite(soft))
            {
                mx = beta * mx + (1 - beta) * soft;
                my = beta * my + (1 - beta) * hard;
                updates++;
                double correction = 1 - Math.Pow(beta, updates);
                double scale = (my / correction) / (mx / correction);
                RelativeTolerance.AssertClose(scale, result.SoftScale, Tolerance, $"call {call}");
                RelativeTolerance.AssertClose(hard + soft * scale, result.Total, Tolerance, $"call {call}");
            }
            else
            {
                // The bad call reads the averages as they are: its scale stays finite.
                skipped++;
                RelativeTolerance.AssertClose(my / mx, result.SoftScale, Tolerance, $"call {call}");
            }
            if (call == 59)
            {
                Assert.Equal(3, skipped);
                Assert.Equal(skipped, result.Metrics()["skipped_updates"]);
            }
        }
    }

    [Fact]
    public void CovLeavesANaNObservationOutOfThatTermsStatisticsOnly()
    {
        var loss = new CovLoss();
        var reference = new CovReference(3);
        var random = new Random(12);
        for (int call = 0; call < 40; call++)
        {
            using var scope = NewDisposeScope();
            double[] values = { RandomLoss(random), RandomLoss(random), RandomLoss(random) };
            if (call == 4) values[1] = double.NaN;
            if (call == 20) values[2] = double.PositiveInfinity;
            using var result = loss.Compute(tensor(values[0]), tensor(values[1]), tensor(values[2]));

            double[] weights = reference.Weights();
            RelativeTolerance.AssertClose(weights[0], result.HardCovWeight, Tolerance, $"call {call}");
            RelativeTolerance.AssertClose(weights[1], result.SoftCovWeight, Tolerance, $"call {call}");
            RelativeTolerance.AssertClose(weights[2], result.FeatureCovWeight, Tolerance, $"call {call}");
            reference.Update(values);
            if (call == 39)
            {
                Assert.Equal(2, reference.Skipped);
                Assert.Equal(reference.Skipped, result.Metrics()["skipped_updates"]);
            }
        }
    }

    [Fact]
    public void CovSurvivesAFiniteFloat32SpikeWhoseSquareOverflowsFloat32()
    {
        // Float32 terms, the state as created: the spike's squared deviation, 1e40, is beyond
        // float32 and was infinite for good in float32 statistics.
        var loss = new CovLoss();
        var random = new Random(13);
        for (int call = 0; call < 30; call++)
        {
            using var scope = NewDisposeScope();
            float[] values = { (float)RandomLoss(random), (float)RandomLoss(random), (float)RandomLoss(random) };
            if (call == 5) values[0] = 1e20f;
            using var result = loss.Compute(tensor(values[0]), tensor(values[1]), tensor(values[2]));

            double[] weights = { result.HardCovWeight.item<float>(), result.SoftCovWeight.item<float>(), result.FeatureCovWeight.item<float>() };
            Assert.True(weights.All(double.IsFinite), $"call {call}: weights {string.Join(", ", weights)}");
            Assert.Equal(1.0, weights.Sum(), 5);
            if (call == 29)
            {
                Assert.Equal(0.0, result.Metrics()["skipped_updates"]); // float64 statistics take the spike
            }
        }
    }

    [Fact]
    public void AnUpdateThatWouldOverflowAStatisticIsSkipped()
    {
        // A state converted to float32: the spike is finite, but its Welford update is not.
        var loss = new CovLoss();
        loss.ComputeState.to(ScalarType.Float32);
        var site = loss.ComputeState.Site<CovState>("cov0");
        using (var scope = NewDisposeScope())
        {
            for (int call = 0; call < 4; call++)
            {
                loss.Compute(tensor(1.0f + call), tensor(2.0f), tensor(3.0f)).Dispose();
            }
        }
        double[] m2 = site.Statistic("m2_ratio").to(ScalarType.Float64).data<double>().ToArray();

        using var scope2 = NewDisposeScope();
        using var result = loss.Compute(tensor(1e30f), tensor(2.5f), tensor(3.5f));

        double[] after = site.Statistic("m2_ratio").to(ScalarType.Float64).data<double>().ToArray();
        Assert.True(after.All(double.IsFinite), string.Join(", ", after));
        Assert.Equal(m2[0], after[0]); // the hard term's statistics are as they were
        Assert.NotEqual(m2[1], after[1]); // the others took their values
        Assert.Equal(1.0, result.Metrics()["skipped_updates"]);
    }

    [Fact]
    public void DwaLeavesANaNObservationOutOfItsWindowMean()
    {
        var loss = new DwaLoss(); // temperature 2, window 3
        var random = new Random(14);
        const int window = 3, k = 3;
        double[] sum = new double[k], valid = new double[k], previous = new double[k], before = new double[k];
        int count = 0, windows = 0, skipped = 0;
        for (int call = 0; call < 40; call++)
        {
            using var scope = NewDisposeScope();
            double[] values = { RandomLoss(random), RandomLoss(random), RandomLoss(random) };
            if (call == 7) values[0] = double.NaN;
            if (call == 8) values[2] = double.PositiveInfinity;
            using var result = loss.Compute(tensor(values[0]), tensor(values[1]), tensor(values[2]));

            double[] weights = Enumerable.Repeat(1.0, k).ToArray();
            if (windows >= 2)
            {
                double[] exps = Enumerable.Range(0, k).Select(i => Math.Exp((before[i] > 1e-12 ? previous[i] / before[i] : 1) / 2)).ToArray();
                weights = exps.Select(e => k * e / exps.Sum()).ToArray();
            }
            RelativeTolerance.AssertClose(weights[0], result.HardDwaWeight, Tolerance, $"call {call}");
            RelativeTolerance.AssertClose(weights[1], result.SoftDwaWeight, Tolerance, $"call {call}");
            RelativeTolerance.AssertClose(weights[2], result.FeatureDwaWeight, Tolerance, $"call {call}");

            for (int i = 0; i < k; i++)
            {
                if (double.IsFinite(values[i]))
                {
                    sum[i] += values[i];
                    valid[i]++;
                }
                else
                {
                    skipped++;
                }
            }
            if (++count == window)
            {
                Array.Copy(previous, before, k);
                for (int i = 0; i < k; i++)
                {
                    previous[i] = sum[i] / valid[i];
                }
                Array.Clear(sum);
                Array.Clear(valid);
                count = 0;
                windows++;
            }
            if (call == 39)
            {
                Assert.Equal(2, skipped);
                Assert.Equal(skipped, result.Metrics()["skipped_updates"]);
            }
        }
    }

    [Fact]
    public void CovWeighsANegativeLossByItsMagnitude()
    {
        // A loss that is always negative: its running mean is below 0. It used to get weight 0
        // for ever; it is weighed by the variation of its magnitude, as a positive loss is.
        var loss = new CovLoss();
        var reference = new CovReference(3);
        var random = new Random(15);
        for (int call = 0; call < 30; call++)
        {
            using var scope = NewDisposeScope();
            double[] values = { RandomLoss(random), -RandomLoss(random), RandomLoss(random) };
            using var result = loss.Compute(tensor(values[0]), tensor(values[1]), tensor(values[2]));

            double[] weights = reference.Weights();
            RelativeTolerance.AssertClose(weights[1], result.SoftCovWeight, Tolerance, $"call {call}");
            RelativeTolerance.AssertClose(weights.Zip(values, (w, v) => w * v).Sum(), result.Total, Tolerance, $"call {call}");
            if (call >= 2)
            {
                Assert.True(weights[1] > 0.05, $"call {call}: the negative loss's weight is {weights[1]}");
            }
            reference.Update(values);
        }
    }

    /// <summary>CoV by hand: Welford statistics of |Lᵢ| / running mean of |Lᵢ|, per term, over its finite values only.</summary>
    private sealed class CovReference(int k)
    {
        private readonly double[] _meanLoss = new double[k], _meanRatio = new double[k], _m2 = new double[k];
        private readonly int[] _count = new int[k];

        public int Skipped { get; private set; }

        public double[] Weights()
        {
            double[] uniform = Enumerable.Repeat(1.0 / k, k).ToArray();
            if (_count.Any(c => c < 2))
            {
                return uniform;
            }
            double[] variation = Enumerable.Range(0, k).Select(i => Math.Sqrt(_m2[i] / _count[i]) / _meanRatio[i]).ToArray();
            double total = variation.Sum();
            return total > 1e-12 ? variation.Select(v => v / total).ToArray() : uniform;
        }

        public void Update(double[] values)
        {
            for (int i = 0; i < k; i++)
            {
                if (!double.IsFinite(values[i]))
                {
                    Skipped++;
                    continue;
                }
                double magnitude = Math.Abs(values[i]);
                double ratio = _meanLoss[i] > 1e-12 ? magnitude / _meanLoss[i] : 1;
                _count[i]++;
                _meanLoss[i] += (magnitude - _meanLoss[i]) / _count[i];
                double delta = ratio - _meanRatio[i];
                _meanRatio[i] += delta / _count[i];
                _m2[i] += delta * (ratio - _meanRatio[i]);
            }
        }
    }
}
