using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LossDsl.Examples;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiTask;

public static class Program
{
    public static int Main(string[] args)
    {
        // Before the first tensor: glibc keeps each step's buffers instead of returning them to the
        // system and faulting them in again on the next step (README.md, "Performance").
        _ = NativeAllocator.Pin();
        return Run(args, Console.Out, Console.Error);
    }

    /// <summary>The whole run; exit code 0 on success, 2 for a bad option (reported before any training).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        RunOptions? options = RunOptions.Parse(args, out string? problem);
        if (options is null)
        {
            return ExampleConsole.HelpOrProblem(problem, RunOptions.Help, output, error);
        }
        Device? device = ExampleConsole.Start(options.Device, options.Threads, options.Progress, output, error, out IAnsiConsole console, out bool live);
        if (device is null)
        {
            return 2;
        }
        console.MarkupLine($"LossDsl multi-task example: seeds {string.Join(", ", options.SeedList)}, {options.Steps} steps, device {device.type.ToString().ToLowerInvariant()}, outputs in [bold]{Markup.Escape(Path.GetFullPath(options.OutputFolder))}[/]");

        using var outputs = new RunOutputs(options.OutputFolder);
        var training = new Training(options, device);
        var results = new List<TaskMetrics>();
        var lines = new List<string>();
        ExampleConsole.Progress(console, live).Start(context =>
        {
            var bars = options.Methods.ToDictionary(m => m, m => context.AddTask(RunOptions.Name(m), autoStart: false, maxValue: options.Steps * options.Seeds));
            foreach (int seed in options.SeedList)
            {
                using var tasks = SyntheticTasks.Create(seed, device);
                foreach (Method method in options.Methods)
                {
                    ProgressTask bar = bars[method];
                    bar.StartTask();
                    double done = bar.Value;
                    TaskMetrics result = training.Run(method, seed, tasks, outputs.Log, step => bar.Value = done + step);
                    results.Add(result);
                    string line = Describe(result);
                    bar.Description = line;
                    if (live)
                    {
                        lines.Add(line);
                    }
                    else
                    {
                        console.WriteLine(line);
                    }
                }
            }
        });

        foreach (string line in lines)
        {
            console.WriteLine(line);
        }
        string csv = outputs.WriteCsv();
        IReadOnlyList<string> plots = outputs.WritePlots();
        IReadOnlyList<MethodSummary> rows = MethodSummary.Table(options.Methods, results);
        string summary = outputs.WriteSummary(options, rows);

        var table = new Table().AddColumns("method", "accuracy ↑", "regression RMSE ↓", "reconstruction MSE ×10⁻³ ↓", "Δm% ↑");
        foreach (MethodSummary row in rows)
        {
            table.AddRow(Markup.Escape(RunOptions.Name(row.Method)), row.AccuracyText, row.RegressionText, row.ReconstructionText, Markup.Escape(row.DeltaText));
        }
        console.Write(table);
        console.WriteLine(options.Seeds > 1
            ? $"held-out metrics, mean ± standard deviation over {options.Seeds} seeds; Δm% against equal weights on the same seed (positive: better)"
            : "held-out metrics of one seed; Δm% against equal weights (positive: better)");
        console.WriteLine($"metrics: {csv}");
        console.WriteLine($"plots:   {Path.GetDirectoryName(plots.FirstOrDefault() ?? csv)}/ ({string.Join(", ", plots.Select(Path.GetFileNameWithoutExtension))})");
        console.WriteLine($"summary: {summary}");
        console.WriteLine($"tensorboard --logdir {Path.Combine(options.OutputFolder, "tensorboard")}");
        return 0;
    }

    private static string Describe(TaskMetrics result)
        => string.Create(CultureInfo.InvariantCulture,
            $"{RunOptions.Name(result.Method),-11} seed {result.Seed}: accuracy {result.Accuracy:P2}, regression RMSE {result.RegressionRmse:F3}, reconstruction MSE {result.ReconstructionMse * 1e3:F3}e-3");
}
