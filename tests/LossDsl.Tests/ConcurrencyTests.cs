using System;
using System.Linq;
using System.Threading.Tasks;
using LossDsl.State;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// One loss instance shared by several threads. A stateless loss keeps nothing between calls, so
/// sharing it is safe; a stateful one serialises its calls on its state, so every update lands
/// once and nothing crashes, whatever the interleaving.
/// </summary>
public class ConcurrencyTests
{
    private const int Threads = 4;
    private const int CallsPerThread = 400;

    [Fact]
    public void AStatelessLossSharedByThreadsGivesTheSequentialValues()
    {
        var loss = new GivenTermsDistillation();
        double[] inputs = Enumerable.Range(0, Threads * 50).Select(i => 0.1 + (i % 17) * 0.37).ToArray();
        double Total(double x)
        {
            using var scope = NewDisposeScope();
            using var result = loss.Compute(tensor(x), tensor(x * 0.3), tensor(-x * 0.2));
            return result.Metrics()["distill/total"];
        }
        double[] sequential = inputs.Select(Total).ToArray();

        double[] parallel = new double[inputs.Length];
        Parallel.For(0, inputs.Length, new ParallelOptions { MaxDegreeOfParallelism = Threads }, i => parallel[i] = Total(inputs[i]));

        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void AStatefulLossSharedByThreadsLosesNoUpdate()
    {
        var ema = new EmaBalanceLoss();
        var dwa = new DwaLoss();
        var cov = new CovLoss();
        var barrier = new System.Threading.Barrier(Threads);

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, thread =>
        {
            barrier.SignalAndWait(); // all threads start together
            for (int call = 0; call < CallsPerThread; call++)
            {
                using var scope = NewDisposeScope();
                double x = 1 + ((thread * CallsPerThread + call) % 13);
                using var e = ema.Compute(tensor(x), tensor(x / 3));
                using var d = dwa.Compute(tensor(x), tensor(x / 3), tensor(x / 7));
                using var c = cov.Compute(tensor(x), tensor(x / 3), tensor(x / 7));
            }
        });

        int calls = Threads * CallsPerThread;
        var emaSite = ema.ComputeState.Site<EmaBalanceState>("balance0");
        var dwaSite = dwa.ComputeState.Site<DwaState>("dwa0");
        // CoV counts each term's updates on the device.
        Assert.Equal(new double[] { calls, calls, calls }, cov.ComputeState.Site<CovState>("cov0").Statistic("count").data<double>().ToArray());
        // Dwa(window: 3): every update is either in a complete window or in the open one.
        Assert.Equal(calls, 3 * dwaSite.Counters["windows"] + dwaSite.Counters["count"]);
        Assert.True(torch.isfinite(emaSite.Statistic("mx")).item<bool>());
        Assert.Equal(0.0, emaSite.Statistic("skipped").item<double>());
    }

    [Fact]
    public void EvaluationScopesMayBeDisposedInAnyOrder()
    {
        var loss = new EmaBalanceLoss();
        LossState state = loss.ComputeState;
        IDisposable first = state.Evaluation(), second = state.Evaluation();

        first.Dispose();
        Assert.False(state.Updating);
        first.Dispose(); // twice counts once
        Assert.False(state.Updating);
        second.Dispose();
        Assert.True(state.Updating);
    }
}
