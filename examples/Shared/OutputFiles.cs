using System;
using System.Collections.Generic;
using System.IO;
using TorchSharp.Modules;
using static TorchSharp.torch.utils.tensorboard;

namespace LossDsl.Examples;

/// <summary>
/// The files of a run's output folder that every example writes the same way: TensorBoard event
/// files (as it goes), and text files and PNG plots written under a temporary name and renamed
/// when complete, so an interrupted run leaves no file that looks finished.
/// </summary>
internal sealed class OutputFiles(string folder) : IDisposable
{
    private readonly Dictionary<string, SummaryWriter> _tensorBoard = new();

    /// <summary>The output folder.</summary>
    public string Folder { get; } = folder;

    /// <summary>Adds <paramref name="values"/> at <paramref name="step"/> to the TensorBoard run under <c>tensorboard/<paramref name="run"/></c>.</summary>
    public void AddScalars(string run, int step, IReadOnlyDictionary<string, double> values)
    {
        if (!_tensorBoard.TryGetValue(run, out SummaryWriter? writer))
        {
            // A run's folder holds this run's events only: TensorBoard would merge an earlier run's.
            string events = Path.Combine(Folder, "tensorboard", run);
            if (Directory.Exists(events))
            {
                Directory.Delete(events, recursive: true);
            }
            writer = SummaryWriter(events);
            _tensorBoard[run] = writer;
        }
        foreach (var (key, value) in values)
        {
            writer.add_scalar(key, (float)value, step);
        }
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="name"/> in the output folder; returns its path.</summary>
    public string WriteAtomically(string name, string content)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllText(path + ".tmp", content);
        File.Move(path + ".tmp", path, overwrite: true);
        return path;
    }

    /// <summary>Saves <paramref name="plot"/> as <c>plots/<paramref name="file"/></c> (900 × 500); returns its path.</summary>
    public string SavePng(ScottPlot.Plot plot, string file)
    {
        string path = Path.Combine(Folder, "plots", file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        plot.SavePng(path + ".tmp.png", 900, 500);
        File.Move(path + ".tmp.png", path, overwrite: true);
        return path;
    }

    /// <summary>Closes the TensorBoard event files.</summary>
    public void Dispose()
    {
        foreach (SummaryWriter writer in _tensorBoard.Values)
        {
            (writer as IDisposable)?.Dispose();
        }
    }
}
