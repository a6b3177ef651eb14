using System;
using BenchmarkDotNet.Running;

namespace LossDsl.Benchmarks;

public static class Program
{
    /// <summary>
    /// dotnet run -c Release -- --filter '*HotPathBenchmarks*'   (or *GradientBenchmarks*, *GeneratorBenchmarks*, *MetricsBenchmarks*, '*')
    /// dotnet run -c Release -- census                           (native tensors per call and alive after 10,000 calls)
    /// dotnet run -c Release -- census gradients                 (the same for balancing by gradients only)
    /// dotnet run -c Release -- agree                            (the hot path's and balancing by gradients' implementations compute the same values)
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "agree")
        {
            var report = new System.Text.StringBuilder();
            bool agreed = HotPath.Agreement.Run(report);
            Console.Write(report.ToString());
            return agreed ? 0 : 1;
        }
        if (args.Length > 0 && args[0] == "census")
        {
            Console.Write(args.Length > 1 && args[1] == "gradients" ? TensorCensus.RunGradients() : TensorCensus.Run());
            return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
