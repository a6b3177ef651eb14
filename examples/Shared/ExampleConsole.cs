using System;
using System.IO;
using Spectre.Console;
using static TorchSharp.torch;

namespace LossDsl.Examples;

/// <summary>The console and device set-up every example's entry point starts with.</summary>
internal static class ExampleConsole
{
    /// <summary>
    /// The device of <c>--device</c> (cpu, cuda or auto); null and a one-line problem when CUDA is
    /// asked for and not available.
    /// </summary>
    public static Device? ChooseDevice(string requested, out string? problem)
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
    public static IAnsiConsole Create(TextWriter output, bool progress, out bool live)
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
