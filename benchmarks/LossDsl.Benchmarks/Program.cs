using System;
using BenchmarkDotNet.Running;

namespace LossDsl.Benchmarks;

public static class Program
{
    /// <summary>
    /// dotnet run -c Release -- --filter '*HotPathBenchmarks*'   (or *GeneratorBenchmarks*, *MetricsBenchmarks*, '*')
    /// dotnet run -c Release -- census                           (native tensors per call and alive after 10,000 calls)
    /// </summary>
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "census")
        {
            Console.Write(TensorCensus.Run());
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
