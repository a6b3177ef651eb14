using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using LossDsl.Benchmarks.HotPath;
using LossDsl.Testing;
using TorchSharp;

namespace LossDsl.Benchmarks;

/// <summary>
/// Counts native tensors, which BenchmarkDotNet does not: how many each implementation creates
/// per call, and how many are still alive after 10,000 calls whose results were disposed.
/// Run with: dotnet run -c Release (project benchmarks/LossDsl.Benchmarks) -- census
/// </summary>
public static class TensorCensus
{
    private const int Calls = 10_000;

    public static string Run()
    {
        var table = new StringBuilder();
        table.Append("| regime | implementation | tensors created per call | alive after 10,000 calls | alive after 10,000 calls and a full GC |\n");
        table.Append("| --- | --- | ---: | ---: | ---: |\n");
        foreach (Regime regime in new[] { Regime.Combination, Regime.Full })
        {
            // Tiny inputs: the counts do not depend on sizes, and 10,000 full calls stay quick.
            using var inputs = HotPathInputs.Tiny();
            var implementations = new Implementations(inputs);
            var candidates = new List<(string, Func<Regime, IDisposable>)>
            {
                ("expert", implementations.Expert),
                ("generated", implementations.Generated),
                ("naive", implementations.Naive),
                ("interpreted", implementations.Interpreted),
            };
            foreach (var (name, call) in candidates)
            {
                for (int i = 0; i < 10; i++)
                {
                    call(regime).Dispose();
                }
                long created = Created();
                call(regime).Dispose();
                long perCall = Created() - created;

                long live = LiveTensors.Count;
                long alive = LiveTensors.AddedBy(Calls, () => call(regime));
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                long aliveAfterGc = LiveTensors.Count - live;
                table.Append(CultureInfo.InvariantCulture, $"| {regime} | {name} | {perCall} | {alive:N0} | {aliveAfterGc:N0} |\n");
            }
        }
        return table.ToString();
    }

    private static long Created()
        => DisposeScopeManager.Statistics.CreatedInScopeCount + DisposeScopeManager.Statistics.CreatedOutsideScopeCount;
}
