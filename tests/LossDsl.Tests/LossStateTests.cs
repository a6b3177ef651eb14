using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LossDsl.Testing;
using LossDsl.State;
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
        Assert.Contains("this loss's state", error.Message); // the layouts differ: the message names the entry
        Assert.Contains("dwa0.", error.Message);
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
    public void ACheckpointLoadsIntoTheSameLayoutWithOtherOptions()
    {
        // Keyed by layout, not by formula text: a changed eps leaves the sites and shapes as they were.
        var saved = new EmaBalanceLoss();
        Run(saved, 5);
        var loading = new EmaBalanceLossOtherEps();

        loading.ComputeState.Load(new MemoryStream(Snapshot(saved.ComputeState)));

        Assert.Equal(Snapshot(saved.ComputeState), Snapshot(loading.ComputeState));
    }

    [Fact]
    public void ACheckpointOfAnotherLayoutIsRefusedNamingTheDifferenceAndChangesNothing()
    {
        var two = new DwaTwoLoss();
        var three = new DwaThreeLoss();
        using (var scope = NewDisposeScope())
        {
            for (int i = 0; i < 4; i++)
            {
                using var r2 = two.Compute(tensor(1.0 + i), tensor(2.0));
                using var r3 = three.Compute(tensor(1.0 + i), tensor(2.0), tensor(3.0));
            }
        }
        byte[] before = Snapshot(three.ComputeState);

        var error = Assert.Throws<InvalidDataException>(() => three.ComputeState.Load(new MemoryStream(Snapshot(two.ComputeState))));

        Assert.Contains("'dwa0.before' has shape [2]", error.Message);
        Assert.Contains("but [3] in this loss's state", error.Message);
        Assert.Equal(before, Snapshot(three.ComputeState));
    }

    [Fact]
    public void ADwaCheckpointWithAFullerWindowThanTheNewWindowClosesItAtTheNextUpdate()
    {
        var saved = new DwaLoss(); // window: 3
        using var scope = NewDisposeScope();
        for (int i = 0; i < 2; i++)
        {
            saved.Compute(tensor(1.0 + i), tensor(2.0), tensor(3.0)).Dispose();
        }
        var shorter = new DwaShortWindowLoss(); // window: 2, the same layout
        shorter.ComputeState.Load(new MemoryStream(Snapshot(saved.ComputeState)));

        shorter.Compute(tensor(1.0), tensor(2.0), tensor(3.0)).Dispose();

        // The open window held 2 updates, as many as the new window: the third update closes it
        // (with '==' instead of '>=' the count went on to 3, 4, … and no window ever closed).
        var dwa = shorter.ComputeState.Site<DwaState>("dwa0");
        Assert.Equal(1, dwa.Counters["windows"]);
        Assert.Equal(0, dwa.Counters["count"]);
    }

    [Fact]
    public void TheStepStopsAtItsLargestValueSoEverySavedCheckpointLoads()
    {
        var loss = new ScheduledLoss();
        loss.ComputeState.Step = LossState.MaxCount;

        Assert.Throws<InvalidOperationException>(() => loss.ComputeState.Advance());
        Assert.Throws<ArgumentOutOfRangeException>(() => loss.ComputeState.Step = LossState.MaxCount + 1);
        var resumed = new ScheduledLoss();
        resumed.ComputeState.Load(new MemoryStream(Snapshot(loss.ComputeState)));
        Assert.Equal(LossState.MaxCount, resumed.ComputeState.Step);
    }

    private static void Run(EmaBalanceLoss loss, int calls)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < calls; i++)
        {
            using var result = loss.Compute(tensor(1.0 + i), tensor(0.5 * i + 0.1));
        }
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
    public void PathErrorsAreTheDocumentedExceptionsAndSaveLeavesNoTemporaryFile()
    {
        var loss = new EmaBalanceLoss();
        Run(loss, 2);
        string folder = Path.Combine(Path.GetTempPath(), $"lossdsl-paths-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            Assert.Throws<FileNotFoundException>(() => loss.ComputeState.Load(folder));
            Assert.Throws<FileNotFoundException>(() => loss.ComputeState.Load(Path.Combine(folder, "missing", "state.bin")));

            // Saving onto a folder fails, and leaves no '<path>.tmp' behind.
            Assert.ThrowsAny<IOException>(() => loss.ComputeState.Save(folder));
            Assert.False(File.Exists(folder + ".tmp"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AStatisticIsOneRegisteredBufferReusedByEveryCall()
    {
        var loss = new EmaBalanceLoss();
        var site = loss.ComputeState.Site<EmaBalanceState>("balance0");
        Tensor before = site.Statistic("mx");
        Run(loss, 3);

        Assert.Same(before, site.Statistic("mx"));
        Assert.Contains(loss.ComputeState.named_buffers(), b => b.name == "balance0.mx");
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
