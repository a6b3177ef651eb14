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
    /// dotnet run -c Release -- memory                           (peak memory of one forward+backward per implementation, each in a child process)
    /// dotnet run -c Release -- allocator                        (time and page faults per call under glibc's default, mallopt and the environment variables)
    /// dotnet run -c Release -- terms                            (each term alone: LossDsl, TorchSharp's functionals, PyTorch eager)
    /// dotnet run -c Release -- eager                            (the full regime: generated, expert, PyTorch eager)
    ///   both take [--rounds R] [--iterations N] [--warmup W] [--threads T]
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
        if (args.Length > 0 && args[0] is "memory" or "allocator")
        {
            try
            {
                Console.Write(args[0] == "memory" ? Memory.PeakMemory.Run(args[1..]) : Memory.AllocatorEffect.Run(args[1..]));
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        }
        // The children of memory and allocator: one measurement each, reported on one line.
        if (args.Length > 0 && args[0] == "memory-child")
        {
            return Memory.PeakMemory.Child(args[1..]);
        }
        if (args.Length > 0 && args[0] == "allocator-child")
        {
            return Memory.AllocatorEffect.Child(args[1..]);
        }
        if (args.Length > 0 && args[0] == "census")
        {
            Console.Write(args.Length > 1 && args[1] == "gradients" ? TensorCensus.RunGradients() : TensorCensus.Run());
            return 0;
        }
        if (args.Length > 0 && args[0] is "terms" or "eager")
        {
            bool terms = args[0] == "terms";
            var options = Eager.EagerRun.Parse(args, terms ? Eager.TermBenchmark.Defaults : Eager.FullRegimeBenchmark.Defaults, out string error);
            if (options is null)
            {
                Console.Error.WriteLine($"{args[0]}: {error}");
                return 2;
            }
            Console.Write(terms ? Eager.TermBenchmark.Run(options) : Eager.FullRegimeBenchmark.Run(options));
            return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
