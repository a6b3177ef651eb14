using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LossDsl.Testing;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static LossDsl.Tests.HandComputed;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The state of a loss with stateful strategies (<see cref="LossState"/>): checkpoints that resume
/// bit for bit and refuse foreign or damaged files, evaluation calls that change nothing, the
/// step counter, and the running statistics it keeps without leaking tensors.
/// </summary>
public class LossStateTests
{
    [Fact]
    public void ACheckpointResumesBitIdentically()
    {
        var inputs = Inputs(seed: 7, count: 80);
        var uninterrupted = new AllStrategiesLoss();
        var optimizer = optim.SGD(uninterrupted.ComputeState.parameters(), 0.05);
        string checkpoint = Path.Combine(Path.GetTempPath(), $"lossdsl-state-{Guid.NewGuid():N}.bin");
        try
        {
            var expected = new List<double>();
            for (int step = 0; step < inputs.Count; step++)
            {
                if (step == 30)
                {
                    uninterrupted.ComputeState.Save(checkpoint);
                }
                double total = Train(uninterrupted, optimizer, inputs[step]);
                if (step >= 30)
                {
                    expected.Add(total);
                }
            }

            var resumed = new AllStrategiesLoss();
            resumed.ComputeState.Load(checkpoint);
            var resumedOptimizer = optim.SGD(resumed.ComputeState.parameters(), 0.05);
            Assert.Equal(30, resumed.ComputeState.Step);
            var actual = inputs.Skip(30).Select(values => Train(resumed, resumedOptimizer, values)).ToList();

            Assert.Equal(expected, actual); // bit for bit
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }

    [Fact]
    public void ACorruptedTruncatedOrForeignCheckpointThrowsAndChangesNothing()
    {
        var loss = new AllStrategiesLoss();
        var optimizer = optim.SGD(loss.ComputeState.parameters(), 0.05);
        foreach (var values in Inputs(seed: 8, count: 10))
        {
            Train(loss, optimizer, values);
        }
        byte[] saved = Snapshot(loss.ComputeState);

        byte[] corrupted = saved.ToArray();
        corrupted[corrupted.Length / 2] ^= 0x40;
        var error = Assert.Throws<InvalidDataException>(() => loss.ComputeState.Load(new MemoryStream(corrupted)));
        Assert.Contains("checksum", error.Message);
        Assert.Equal(saved, Snapshot(loss.ComputeState));

        error = Assert.Throws<InvalidDataException>(() => loss.ComputeState.Load(new MemoryStream(saved[..(saved.Length / 3)])));
        Assert.Contains("corrupted or truncated", error.Message);
        Assert.Equal(saved, Snapshot(loss.ComputeState));

        var other = new DwaLoss();
        using (var scope = NewDisposeScope())
        {
            other.Compute(tensor(1.0), tensor(2.0), tensor(3.0)).Dispose();
        }
        error = Assert.Throws<InvalidDataException>(() => loss.ComputeState.Load(new MemoryStream(Snapshot(other.ComputeState))));
        Assert.Contains("another formula", error.Message);
        Assert.Contains("Total=Dwa(hard,soft,feature,temperature:2,window:3)", error.Message);
        Assert.Equal(saved, Snapshot(loss.ComputeState));

        error = Assert.Throws<InvalidDataException>(() => loss.ComputeState.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{ \"not\": \"a checkpoint\" }"))));
        Assert.Equal("The file read from a stream is not a LossDsl loss state checkpoint.", error.Message);
        Assert.Equal(saved, Snapshot(loss.ComputeState));
    }

    [Fact]
    public void AnEvaluationCallLeavesEveryPieceOfStateUnchanged()
    {
        var loss = new AllStrategiesLoss();
        var optimizer = optim.SGD(loss.ComputeState.parameters(), 0.05);
        foreach (var values in Inputs(seed: 9, count: 10))
        {
            Train(loss, optimizer, values);
        }
        byte[] before = Snapshot(loss.ComputeState);

        using (loss.ComputeState.Evaluation())
        using (var scope = NewDisposeScope())
        {
            loss.Compute(tensor(5.0), tensor(0.1), tensor(2.0)).Dispose();
            loss.Compute(tensor(0.3), tensor(7.0), tensor(0.9)).Dispose();
        }

        Assert.Equal(before, Snapshot(loss.ComputeState));
        Assert.True(loss.ComputeState.Updating);
    }

    [Fact]
    public void AnEvaluationCallBeforeAnyUpdateAddsNoState()
    {
        var loss = new AllStrategiesLoss();
        byte[] fresh = Snapshot(loss.ComputeState);

        using (loss.ComputeState.Evaluation())
        using (var scope = NewDisposeScope())
        {
            loss.Compute(tensor(1.0), tensor(2.0), tensor(3.0)).Dispose();
        }

        Assert.Equal(fresh, Snapshot(loss.ComputeState));
    }

    [Fact]
    public void StatefulLossesLeaveNoTensorAliveBeyondTheirState()
    {
        var loss = new AllStrategiesLoss();
        using var hard = tensor(1.0);
        using var soft = tensor(2.0);
        using var feature = tensor(3.0);
        loss.Compute(hard, soft, feature).Dispose(); // creates the state's buffers
        loss.Compute(hard, soft, feature).Dispose();

        long added = LiveTensors.AddedBy(500, () => loss.Compute(hard, soft, feature));

        Assert.Equal(0, added);
    }

    [Fact]
    public void AReformattedFormulaKeepsItsCheckpointsValid()
    {
        // The fingerprint leaves out white space and comments.
        Assert.Equal(
            "formula: Total=hard+Balance(soft,to:hard,ema:0.9) | state: balance0(ema 0.9)",
            new EmaBalanceLoss().ComputeState.Fingerprint);
    }

    [Fact]
    public void TheStepCanBeSetToResumeSchedulesButNotBelowZero()
    {
        var loss = new ScheduledLoss();
        loss.ComputeState.Step = 50;
        using var scope = NewDisposeScope();
        using var result = loss.Compute(tensor(1.0), tensor(1.0), tensor(1.0));

        Assert.Equal(1 + 0.5 + 0.0, result.Total.item<double>(), 12); // Linear at 0.5, Cosine at its end
        Assert.Throws<ArgumentOutOfRangeException>(() => loss.ComputeState.Step = -1);
    }

    [Fact]
    public void AStatisticIsOneTensorReusedByEveryCall()
    {
        // Regression: Device objects compare by reference, so a device check by != recreated
        // (copied) every running statistic on every call.
        var state = new LossState("test");
        using var scope = NewDisposeScope();

        Tensor first = state.Buffer("statistic", tensor(1.0));
        Tensor second = state.Buffer("statistic", tensor(2.0));

        Assert.Same(first, second);
        Assert.NotSame(first, state.Buffer("statistic", tensor(1.0f))); // another dtype converts once
    }

    private static double Train(AllStrategiesLoss loss, optim.Optimizer optimizer, double[] values)
    {
        using var scope = NewDisposeScope();
        using var result = loss.Compute(tensor(values[0]), tensor(values[1]), tensor(values[2]));
        optimizer.zero_grad();
        result.Total.backward();
        optimizer.step();
        loss.ComputeState.Advance();
        return result.Total.item<double>();
    }

    private static List<double[]> Inputs(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new[] { RandomLoss(random), RandomLoss(random), RandomLoss(random) }).ToList();
    }

    private static byte[] Snapshot(LossState state)
    {
        var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }
}
