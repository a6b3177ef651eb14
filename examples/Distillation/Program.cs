using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillation;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The whole run; exit code 0 on success, 2 for a bad option (reported before any training).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        RunOptions? options = RunOptions.Parse(args, out string? problem);
        if (options is null)
        {
            if (problem is null)
            {
                output.WriteLine(RunOptions.Help);
                return 0;
            }
            error.WriteLine($"error: {problem}");
            return 2;
        }

        Device? device = ChooseDevice(options.Device, out problem);
        if (device is null)
        {
            error.WriteLine($"error: {problem}");
            return 2;
        }
        set_num_threads(options.Threads);

        // A live progress bar only on a terminal; logs and pipes get plain lines.
        bool live = options.Progress && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Interactive = live ? InteractionSupport.Detect : InteractionSupport.No,
            Ansi = live ? AnsiSupport.Detect : AnsiSupport.No,
        });
        if (!live)
        {
            console.Profile.Width = 160; // plain output is read from logs: do not wrap it
        }
        console.MarkupLine($"LossDsl distillation example: seed {options.Seed}, device {device.type.ToString().ToLowerInvariant()}, outputs in [bold]{Markup.Escape(Path.GetFullPath(options.OutputFolder))}[/]");

        using var task = SyntheticTask.Create(options.Seed, device);
        using var outputs = new RunOutputs(options.OutputFolder);
        var training = new Training(options, task, device);
        var evaluations = new List<Evaluation>();
        StudentMode[] students = options.Mode == StudentMode.All
            ? new[] { StudentMode.Hard, StudentMode.Fixed, StudentMode.Dynamic }
            : new[] { options.Mode };

        bool teacherFromCache = false;
        Progress(console, live).Start(context =>
        {
            var teacherTask = context.AddTask("teacher", maxValue: options.TeacherSteps);
            var studentTasks = students.ToDictionary(s => s, s => context.AddTask(s.ToString().ToLowerInvariant(), autoStart: false, maxValue: options.Steps));

            using var teacher = training.Teacher(step => teacherTask.Value = step, out teacherFromCache);
            teacherTask.Description = teacherFromCache ? "teacher (cached)" : "teacher";
            if (!live)
            {
                console.WriteLine(TeacherLine(options, teacherFromCache));
            }
            evaluations.Add(training.Evaluate("teacher", x => teacher.Forward(x).Logits));

            foreach (StudentMode mode in students)
            {
                ProgressTask bar = studentTasks[mode];
                bar.StartTask();
                string name = mode.ToString().ToLowerInvariant();
                evaluations.Add(training.Student(mode, teacher,
                    row =>
                    {
                        outputs.Log(row);
                        bar.Description = Describe(name, row);
                        if (!live && (row.Step == 1 || row.Step == options.Steps))
                        {
                            console.WriteLine(Describe(name, row));
                        }
                    },
                    step => bar.Value = step));
            }
        });

        if (live)
        {
            console.WriteLine(TeacherLine(options, teacherFromCache));
        }
        string csv = outputs.WriteCsv();
        IReadOnlyList<string> plots = outputs.WritePlots();
        string summary = outputs.WriteSummary(options, evaluations);

        var table = new Table().AddColumns("model", "held-out accuracy", "held-out loss");
        foreach (Evaluation e in evaluations)
        {
            table.AddRow(e.Model, e.Accuracy.ToString("P2", CultureInfo.InvariantCulture), e.Loss.ToString("F4", CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.WriteLine($"metrics: {csv}");
        console.WriteLine($"plots:   {Path.GetDirectoryName(plots.FirstOrDefault() ?? csv)}/ ({string.Join(", ", plots.Select(Path.GetFileNameWithoutExtension))})");
        console.WriteLine($"summary: {summary}");
        console.WriteLine($"tensorboard --logdir {Path.Combine(options.OutputFolder, "tensorboard")}");
        return 0;
    }

    private static string TeacherLine(RunOptions options, bool fromCache)
        => fromCache
            ? $"teacher: loaded from {Path.Combine(options.OutputFolder, "teacher")} (trained earlier with the same settings; --retrain-teacher trains it again)"
            : $"teacher: trained for {options.TeacherSteps} steps, cached in {Path.Combine(options.OutputFolder, "teacher")}";

    private static Device? ChooseDevice(string requested, out string? problem)
    {
        problem = null;
        bool cuda = cuda_is_available();
        switch (requested)
        {
            case "cuda" when !cuda:
                problem = "--device cuda: CUDA is not available (this build uses the CPU backend; build with -p:TorchBackend=cuda on a GPU host)";
                return null;
            case "cuda":
            case "auto" when cuda:
                return CUDA;
            default:
                return CPU;
        }
    }

    private static Progress Progress(IAnsiConsole console, bool live)
        => console.Progress()
            .AutoRefresh(live)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn());

    private static string Describe(string student, MetricRow row)
    {
        string Value(string key, string label)
            => row.Values.TryGetValue(key, out double v) ? $" {label} {v.ToString("G4", CultureInfo.InvariantCulture)}" : "";
        return $"{student,-8} step {row.Step}:" +
               Value("distill/total_loss", "loss") +
               Value("train/accuracy", "acc") +
               Value("distill/out_proj_feature_loss_scale", "feature_scale") +
               Value("distill/kd_loss_scale", "kd_scale");
    }
}
