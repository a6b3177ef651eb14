using System;
using System.IO;
using System.Threading.Tasks;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// A call that throws changes no state: not the statistics of the sites it passed before it
/// failed, not their counters, not the call count. The next call runs as if it never happened.
/// </summary>
public class FailedCallTests
{
    [Fact]
    public void ACheckFiniteCallThatThrowsChangesNoStateAndTheNextCallsRun()
    {
        var loss = new CheckedEmaLoss();
        using var scope = NewDisposeScope();
        for (int call = 0; call < 5; call++)
        {
            loss.Compute(tensor(1.0 + call), tensor(0.5)).Dispose();
        }
        byte[] before = Snapshot(loss.ComputeState);

        var error = Assert.Throws<ArithmeticException>(() => loss.Compute(tensor(double.NaN), tensor(0.5)));
        Assert.Contains("Total", error.Message);
        Assert.Equal(before, Snapshot(loss.ComputeState));

        // Before, the NaN was already in the averages, so every later call threw too.
        using var result = loss.Compute(tensor(2.0), tensor(0.5));
        Assert.True(double.IsFinite(result.Total.item<double>()));
    }

    [Fact]
    public void ATermThatThrowsAfterEarlierSitesUpdatedChangesNoState()
    {
        var loss = new LateFailureLoss();
        using var scope = NewDisposeScope();
        for (int call = 0; call < 5; call++)
        {
            loss.Compute(tensor(1.0 + call), tensor(0.5 + call)).Dispose();
        }
        byte[] before = Snapshot(loss.ComputeState);

        loss.Fail = true;
        Assert.Throws<InvalidOperationException>(() => loss.Compute(tensor(9.0), tensor(7.0)));
        Assert.Equal(before, Snapshot(loss.ComputeState));

        loss.Fail = false;
        var expected = new LateFailureLoss();
        for (int call = 0; call < 5; call++)
        {
            expected.Compute(tensor(1.0 + call), tensor(0.5 + call)).Dispose();
        }
        using var resumed = loss.Compute(tensor(3.0), tensor(4.0));
        using var uninterrupted = expected.Compute(tensor(3.0), tensor(4.0));
        Assert.Equal(Snapshot(expected.ComputeState), Snapshot(loss.ComputeState));
        Assert.Equal(uninterrupted.Total.item<double>(), resumed.Total.item<double>());
    }

    [Fact]
    public void FailingCallsOnOtherThreadsNeitherBlockNorChangeTheSharedState()
    {
        // Threads share one loss; every other call fails late. The state ends as if only the
        // successful calls had run, in some order: every counter counts them exactly.
        var loss = new LateFailureLoss();
        const int threads = 4, calls = 60;
        int failures = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, thread =>
        {
            for (int call = 0; call < calls; call++)
            {
                using var scope = NewDisposeScope();
                try
                {
                    // A negative hard makes the term Late, after every site, throw.
                    using var result = loss.Compute(tensor(call % 2 == 0 ? 1.0 + call : -1.0 - call), tensor(0.5));
                }
                catch (InvalidOperationException)
                {
                    System.Threading.Interlocked.Increment(ref failures);
                }
            }
        });

        Assert.Equal(threads * calls / 2, failures);
        var dwa = loss.ComputeState.Site<State.DwaState>("dwa0"); // window 2
        Assert.Equal(threads * calls / 2, 2 * dwa.Counters["windows"] + dwa.Counters["count"]);
    }

    [Fact]
    public void AStrategyUpdatesOnlyInsideACallOfItsLoss()
    {
        // Updates are staged in the open call; without one there is nowhere to stage them, and
        // writing them at once would bring back the half-updated state of a failed call.
        var loss = new EmaBalanceLoss();
        using var scope = NewDisposeScope();

        var error = Assert.Throws<InvalidOperationException>(() => Strategies.EmaScale(loss.ComputeState, "balance0", tensor(1.0), tensor(2.0), 0.9, 1e-8));

        Assert.Contains("BeginCall", error.Message);
        using (loss.ComputeState.Evaluation())
        {
            Assert.Equal(2.0, Strategies.EmaScale(loss.ComputeState, "balance0", tensor(1.0), tensor(2.0), 0.9, 1e-8).item<double>()); // reading needs no call
        }
    }

    private static byte[] Snapshot(LossState state)
    {
        var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }
}
