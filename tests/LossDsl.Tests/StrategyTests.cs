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
/// The stateful strategies over 200 steps of random term values, against an independent
/// computation of each formula in double precision, and their gradients. The state they keep
/// (checkpoints, evaluation calls, the step) is tested in <see cref="LossStateTests"/>.
/// </summary>
public class StrategyTests
{
    private const int Steps = 200;
    private const double Tolerance = 1e-6;

    [Fact]
    public void EmaBalanceFollowsBiasCorrectedMovingAverages()
    {
        var loss = new EmaBalanceLoss();
        loss.ComputeState.to(ScalarType.Float64); // the references are computed in double precision
        var random = new Random(1);
        double mx = 0, my = 0, beta = 0.9;
        for (int t = 1; t <= Steps; t++)
        {
            using var scope = NewDisposeScope();
            double hard = RandomLoss(random), soft = RandomLoss(random);
            using var result = loss.Compute(tensor(hard), tensor(soft));

            mx = beta * mx + (1 - beta) * soft;
            my = beta * my + (1 - beta) * hard;
            double correction = 1 - Math.Pow(beta, t);
            double scale = Math.Min(mx, my) / correction > 1e-8 ? (my / correction) / (mx / correction) : 1;
            Close(scale, result.SoftScale, t);
            Close(hard + soft * scale, result.Total, t);
            loss.ComputeState.Advance();
        }
    }

    [Fact]
    public void UncertaintyWeighsByLearnedLogVariances()
    {
        var loss = new UncertaintyLoss();
        loss.ComputeState.to(ScalarType.Float64);
        var optimizer = optim.SGD(loss.ComputeState.parameters(), 0.05);
        var random = new Random(2);
        double[] s = new double[3];
        for (int t = 1; t <= Steps; t++)
        {
            using var scope = NewDisposeScope();
            double[] values = { RandomLoss(random), RandomLoss(random), RandomLoss(random) };
            using var result = loss.Compute(tensor(values[0]), tensor(values[1]), tensor(values[2]));

            double total = Enumerable.Range(0, 3).Sum(i => values[i] * Math.Exp(-s[i]) + s[i]) / 2;
            Close(total, result.Total, t);
            Close(Math.Exp(-s[0]) / 2, result.HardUncertaintyWeight, t);
            Close(Math.Exp(-s[1]) / 2, result.SoftUncertaintyWeight, t);
            Close(Math.Exp(-s[2]) / 2, result.FeatureUncertaintyWeight, t);

            optimizer.zero_grad();
            result.Total.backward();
            optimizer.step();
            for (int i = 0; i < 3; i++)
            {
                s[i] -= 0.05 * (1 - values[i] * Math.Exp(-s[i])) / 2; // SGD on d/ds of (L e^-s + s) / 2
            }
            loss.ComputeState.Advance();
        }
    }

    [Fact]
    public void DwaWeighsByTheRatioOfTheLastTwoWindows()
    {
        var loss = new DwaLoss();
        loss.ComputeState.to(ScalarType.Float64); // the references are computed in double precision
        var random = new Random(3);
        const int window = 3, k = 3;
        const double temperature = 2;
        double[] sum = new double[k], previous = new double[k], before = new double[k];
        int count = 0, windows = 0;
        for (int t = 1; t <= Steps; t++)
        {
            using var scope = NewDisposeScope();
            double[] values = { RandomLoss(random), RandomLoss(random), RandomLoss(random) };
            using var result = loss.Compute(tensor(values[0]), tensor(values[1]), tensor(values[2]));

            double[] weights = Enumerable.Repeat(1.0, k).ToArray();
            if (windows >= 2)
            {
                double[] exps = Enumerable.Range(0, k).Select(i => Math.Exp(previous[i] / before[i] / temperature)).ToArray();
                weights = exps.Select(e => k * e / exps.Sum()).ToArray();
            }
            Close(weights[0], result.HardDwaWeight, t);
            Close(weights[1], result.SoftDwaWeight, t);
            Close(weights[2], result.FeatureDwaWeight, t);
            Close(Enumerable.Range(0, k).Sum(i => weights[i] * values[i]), result.Total, t);

            for (int i = 0; i < k; i++)
            {
                sum[i] += values[i];
            }
            if (++count == window)
            {
                Array.Copy(previous, before, k);
                for (int i = 0; i < k; i++)
                {
                    previous[i] = sum[i] / window;
                    sum[i] = 0;
                }
                count = 0;
                windows++;
            }
            loss.ComputeState.Advance();
        }
    }

    [Fact]
    public void CovWeighsByTheCoefficientOfVariationOfLossRatios()
    {
        var loss = new CovLoss();
        loss.ComputeState.to(ScalarType.Float64); // the references are computed in double precision
        var random = new Random(4);
        const int k = 3;
        double[] meanLoss = new double[k], meanRatio = new double[k], m2Ratio = new double[k];
        for (int t = 0; t < Steps; t++)
        {
            using var scope = NewDisposeScope();
            double[] values = { RandomLoss(random), RandomLoss(random), RandomLoss(random) };
            using var result = loss.Compute(tensor(values[0]), tensor(values[1]), tensor(values[2]));

            double[] weights = Enumerable.Repeat(1.0 / k, k).ToArray();
            if (t >= 2)
            {
                double[] variation = Enumerable.Range(0, k).Select(i => Math.Sqrt(m2Ratio[i] / t) / meanRatio[i]).ToArray();
                weights = variation.Select(v => v / variation.Sum()).ToArray();
            }
            Close(weights[0], result.HardCovWeight, t);
            Close(weights[1], result.SoftCovWeight, t);
            Close(weights[2], result.FeatureCovWeight, t);
            Close(Enumerable.Range(0, k).Sum(i => weights[i] * values[i]), result.Total, t);

            // Welford, over the ratio of each loss to the running mean of the ones before it.
            for (int i = 0; i < k; i++)
            {
                double ratio = t == 0 ? 1 : values[i] / meanLoss[i];
                meanLoss[i] += (values[i] - meanLoss[i]) / (t + 1);
                double delta = ratio - meanRatio[i];
                meanRatio[i] += delta / (t + 1);
                m2Ratio[i] += delta * (ratio - meanRatio[i]);
            }
            loss.ComputeState.Advance();
        }
    }

    [Fact]
    public void CovRecoversFromALossThatWasZeroAtFirst()
    {
        // Regression: a running mean of 0 made the ratio 0/0, and the NaN kept the weights
        // uniform for ever.
        var loss = new CovLoss();
        loss.ComputeState.to(ScalarType.Float64); // the references are computed in double precision
        using var scope = NewDisposeScope();
        for (int t = 0; t < 3; t++)
        {
            loss.Compute(tensor(0.0), tensor(1.0), tensor(2.0)).Dispose();
        }
        var random = new Random(10);
        for (int t = 0; t < 20; t++)
        {
            loss.Compute(tensor(RandomLoss(random)), tensor(RandomLoss(random)), tensor(RandomLoss(random))).Dispose();
        }

        using var result = loss.Compute(tensor(1.0), tensor(1.0), tensor(1.0));
        double hard = result.HardCovWeight.item<double>(), soft = result.SoftCovWeight.item<double>();
        Assert.True(double.IsFinite(hard) && double.IsFinite(soft));
        Assert.NotEqual(1.0 / 3, hard, 6);
        Assert.Equal(1.0, hard + soft + result.FeatureCovWeight.item<double>(), 12);
    }

    [Fact]
    public void SchedulesFollowTheStepCounter()
    {
        var loss = new ScheduledLoss();
        loss.ComputeState.to(ScalarType.Float64); // the references are computed in double precision
        var random = new Random(5);
        for (int step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            double hard = RandomLoss(random), soft = RandomLoss(random), feature = RandomLoss(random);
            using var result = loss.Compute(tensor(hard), tensor(soft), tensor(feature));

            double linear = 0.1 + (0.9 - 0.1) * Math.Clamp(step / 100.0, 0, 1);
            double cosine = 0 + (1 - 0) * 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(step / 50.0, 0, 1)));
            Close(hard + linear * soft + cosine * feature, result.Total, step);
            loss.ComputeState.Advance();
        }
    }

    [Fact]
    public void GradientsReachTermsThroughConstantWeightsAndUncertaintysLogVariances()
    {
        var loss = new AllStrategiesLoss();
        loss.ComputeState.to(ScalarType.Float64);
        var random = new Random(6);
        for (int t = 0; t < 12; t++)
        {
            using var scope = NewDisposeScope();
            Tensor hard = tensor(RandomLoss(random), requires_grad: true), soft = tensor(RandomLoss(random), requires_grad: true), feature = tensor(RandomLoss(random), requires_grad: true);
            using var result = loss.Compute(hard, soft, feature);
            var logVariance = loss.ComputeState.Site<UncertaintyState>("uncertainty0").LogVariance;
            logVariance.grad?.zero_();

            result.Total.backward();

            // Total = soft·scale + Σ dwa·L + Σ cov·L + linear·Σ (L e^-s + s)/2, every weight a constant.
            double linear = 1 + (0.5 - 1) * Math.Clamp(loss.ComputeState.Step / 40.0, 0, 1);
            double Value(Tensor x) => x.item<double>();
            Assert.Equal(Value(result.HardDwaWeight) + Value(result.HardCovWeight) + linear * Value(result.HardUncertaintyWeight), Value(hard.grad!), 12);
            Assert.Equal(Value(result.SoftScale) + Value(result.SoftDwaWeight) + linear * Value(result.SoftUncertaintyWeight), Value(soft.grad!), 12);
            Assert.Equal(Value(result.FeatureCovWeight) + linear * Value(result.FeatureUncertaintyWeight), Value(feature.grad!), 12);
            double[] s = logVariance.detach().data<double>().ToArray();
            double[] values = { Value(hard), Value(soft), Value(feature) };
            double[] expected = Enumerable.Range(0, 3).Select(i => linear * (1 - values[i] * Math.Exp(-s[i])) / 2).ToArray();
            double[] gradient = logVariance.grad!.data<double>().ToArray();
            for (int i = 0; i < 3; i++)
            {
                RelativeTolerance.AssertClose(expected[i], gradient[i], 1e-12, $"step {t}, log-variance {i}");
            }
            foreach (Tensor weight in new[] { result.SoftScale, result.HardDwaWeight, result.HardCovWeight, result.HardUncertaintyWeight })
            {
                Assert.False(weight.requires_grad);
            }
            loss.ComputeState.Advance();
        }
    }

    private static void Close(double expected, Tensor actual, int step)
        => RelativeTolerance.AssertClose(expected, actual, Tolerance, $"step {step}");
}
