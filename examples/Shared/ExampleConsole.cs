using System;
using System.IO;
using Spectre.Console;
using static TorchSharp.torch;

namespace LossDsl.Examples;

/// <summary>The console and device set-up every example's entry point starts with.</summary>
internal static class ExampleConsole
{
    /// <summary>
    /// Where a run ends when its options did not parse: the help on <paramref name="output"/> (exit
    /// code 0) when <paramref name="problem"/> is null, else the problem on <paramref name="error"/>
    /// (exit code 2).
    /// </summary>
    public static int HelpOrProblem(string? problem, string help, TextWriter output, TextWriter error)
    {
        if (problem is null)
        {
            output.WriteLine(help);
            return 0;
        }
        error.WriteLine($"error: {problem}");
        return 2;
    }

    /// <summary>
    /// What a run does before its first tensor: chooses the device of <c>--device</c>, sets
    /// libtorch's threads and makes the console. Null, with the problem written to
    /// <paramref name="error"/>, when the device is not available (the run then exits with 2).
    /// </summary>
    public static Device? Start(
        string requestedDevice, int threads, bool progress, TextWriter output, TextWriter error, out IAnsiConsole console, out bool live)
    {
        Device? device = ChooseDevice(requestedDevice, out string? problem);
        if (device is null)
        {
            error.WriteLine($"error: {problem}");
            console = null!;
            live = false;
            return null;
        }
        set_num_threads(threads);
        console = Create(output, progress, out live);
        return device;
    }

    /// <summary>
    /// The device of <c>--device</c> (cpu, cuda or auto); null and a one-line problem when CUDA is
    /// asked for and not available.
    /// </summary>
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

    /// <summary>
    /// The console a run writes to: with a live progress bar (<paramref name="live"/>) only when
    /// progress is wanted and <paramref name="output"/> is a terminal; logs and pipes get plain,
    /// unwrapped lines.
    /// </summary>
    private static IAnsiConsole Create(TextWriter output, bool progress, out bool live)
    {
        live = progress && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
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
        return console;
    }

    /// <summary>The progress display of a run: refreshed only when <paramref name="live"/>.</summary>
    public static Progress Progress(IAnsiConsole console, bool live)
        => console.Progress()
            .AutoRefresh(live)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn());
}
