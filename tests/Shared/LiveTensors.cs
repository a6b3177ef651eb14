using System;
using TorchSharp;

namespace LossDsl.Testing;

/// <summary>
/// Counts the TorchSharp tensors alive on the calling thread (created and not yet disposed), the
/// measure of every leak check in the tests and the benchmarks' census. The count is
/// TorchSharp's dispose-scope statistic for this thread: a leaked tensor stays counted while a
/// dispose scope holds it, and also after the finalizer thread releases it, since that release
/// is not counted back on this thread.
/// </summary>
internal static class LiveTensors
{
    /// <summary>Tensors alive on this thread now.</summary>
    public static long Count => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    /// <summary>
    /// Calls <paramref name="call"/> <paramref name="times"/> times, disposing each result, and
    /// returns how many more tensors are alive afterwards: 0 unless something leaks.
    /// </summary>
    public static long AddedBy(int times, Func<IDisposable> call)
    {
        long before = Count;
        for (int i = 0; i < times; i++)
        {
            call().Dispose();
        }
        return Count - before;
    }
}
