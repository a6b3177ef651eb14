using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LossDsl.Examples;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillation;

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
        string seeds = options.Seeds == 1 ? $"seed {options.Seed}" : $"seeds {options.Seed}..{options.Seed + options.Seeds - 1}";
        console.MarkupLine($"LossDsl distillation example: {seeds}, device {device.type.ToString().ToLowerInvariant()}, outputs in [bold]{Markup.Escape(Path.GetFullPath(options.OutputFolder))}[/]");

        // Real data is the same for every seed: read once. The synthetic task is drawn from each seed.
        using IClassificationTask? shared = options.Data is null ? null : IdxTask.Load(options.Data, Path.Combine(options.OutputFolder, "data"), device);
        if (shared is not null)
        {
            console.WriteLine($"data: {shared.Description}");
        }
        using var outputs = new RunOutputs(options.OutputFolder, perSeed: options.Seeds > 1);
        var evaluations = new List<Evaluation>();
        IReadOnlyList<StudentSpec> students = StudentSpec.For(options);
        string data = shared?.Description ?? "";
        var teacherLines = new List<string>();

        ExampleConsole.Progress(console, live).Start(context =>
        {
            var teacherTask = context.AddTask("teacher", maxValue: options.TeacherSteps * options.Seeds);
            var studentTasks = students.ToDictionary(s => s.Name, s => context.AddTask(s.Name, autoStart: false, maxValue: options.Steps * options.Seeds));
            int round = 0;
            foreach (int seed in options.AllSeeds)
            {
                using IClassificationTask? own = shared is null ? SyntheticTask.Create(seed, device) : null;
                IClassificationTask task = shared ?? own!;
                data = task.Description;
                var training = new Training(options, task, device, seed);
                int done = round * options.TeacherSteps;
                using var teacher = training.Teacher(step => teacherTask.Value = done + step, out bool fromCache);
                teacherLines.Add(TeacherLine(options, seed, fromCache));
                if (!live)
                {
                    console.WriteLine(teacherLines[^1]);
                }
                evaluations.Add(training.Evaluate("teacher", x => teacher.Forward(x).Logits));

                foreach (StudentSpec student in students)
                {
                    ProgressTask bar = studentTasks[student.Name];
                    bar.StartTask();
                    int before = round * options.Steps;
                    evaluations.Add(training.Student(student, teacher,
                        row =>
                        {
                            outputs.Log(row);
                            bar.Description = Describe(student.Name, options.Seeds, row);
                            if (!live && (row.Step == 1 || row.Step == options.Steps))
                            {
                                console.WriteLine(Describe(student.Name, options.Seeds, row));
                            }
                        },
                        step => bar.Value = before + step));
                }
                round++;
            }
        });

        if (live)
        {
            teacherLines.ForEach(console.WriteLine);
        }
        string csv = outputs.WriteCsv();
        var plots = outputs.WritePlots().ToList();
        if (options.Sweep is { } sweep)
        {
            plots.Add(outputs.WriteSweepPlot(sweep, evaluations));
        }
        string summary = outputs.WriteSummary(options, data, evaluations);

        string over = options.Seeds == 1 ? "" : $" (mean ± std, {options.Seeds} seeds)";
        var table = new Table().AddColumns("model", $"held-out accuracy{over}", $"held-out loss{over}");
        foreach (ModelStatistics m in ModelStatistics.Of(evaluations))
        {
            table.AddRow(Markup.Escape(m.Model), m.AccuracyText, m.LossText);
        }
        console.Write(table);
        console.WriteLine($"metrics: {csv}");
        console.WriteLine($"plots:   {Path.GetDirectoryName(plots.FirstOrDefault() ?? csv)}/ ({string.Join(", ", plots.Select(Path.GetFileNameWithoutExtension))})");
        console.WriteLine($"summary: {summary}");
        console.WriteLine($"tensorboard --logdir {Path.Combine(options.OutputFolder, "tensorboard")}");
        return 0;
    }

    private static string TeacherLine(RunOptions options, int seed, bool fromCache)
        => fromCache
            ? $"teacher: loaded from {Training.TeacherFolder(options, seed)} (trained earlier with the same settings; --retrain-teacher trains it again)"
            : $"teacher: trained for {options.TeacherSteps} steps, cached in {Training.TeacherFolder(options, seed)}";

    private static string Describe(string student, int seeds, MetricRow row)
    {
        string Value(string key, string label)
            => row.Values.TryGetValue(key, out double v) ? $" {label} {v.ToString("G4", CultureInfo.InvariantCulture)}" : "";
        return $"{student,-8}{(seeds == 1 ? "" : $" seed {row.Seed}")} step {row.Step}:" +
               Value("distill/total_loss", "loss") +
               Value("eval/accuracy", "held-out acc") +
               Value("distill/out_proj_feature_loss_scale", "feature_scale") +
               Value("distill/kd_loss_scale", "kd_scale");
    }
}
