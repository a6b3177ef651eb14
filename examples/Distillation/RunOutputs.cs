using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using TorchSharp.Modules;
using static TorchSharp.torch.utils.tensorboard;

namespace Distillation;

/// <summary>
/// Everything a run writes under its output folder: TensorBoard event files (as it goes),
/// metrics.csv, PNG plots and summary.md (at the end). Files are written under a temporary
/// name and renamed when complete, so an interrupted run leaves no file that looks finished.
/// </summary>
public sealed class RunOutputs(string folder) : IDisposable
{
    private readonly List<MetricRow> _rows = new();
    private readonly Dictionary<string, SummaryWriter> _tensorBoard = new();

    public string Folder { get; } = folder;

    public IReadOnlyList<MetricRow> Rows => _rows;

    public void Log(MetricRow row)
    {
        _rows.Add(row);
        if (!_tensorBoard.TryGetValue(row.Student, out SummaryWriter? writer))
        {
            // A student's folder holds this run's events only: TensorBoard would merge an earlier run's.
            string events = Path.Combine(Folder, "tensorboard", row.Student);
            if (Directory.Exists(events))
            {
                Directory.Delete(events, recursive: true);
            }
            writer = SummaryWriter(events);
            _tensorBoard[row.Student] = writer;
        }
        foreach (var (key, value) in row.Values)
        {
            writer.add_scalar(key, (float)value, row.Step);
        }
    }

    /// <summary>metrics.csv: one row per logged step and student; empty where a student has no such value.</summary>
    public string WriteCsv()
    {
        var csv = new StringBuilder();
        csv.Append("student,step,").AppendJoin(',', Training.MetricKeys).Append('\n');
        foreach (MetricRow row in _rows)
        {
            csv.Append(row.Student).Append(',').Append(row.Step.ToString(CultureInfo.InvariantCulture));
            foreach (string key in Training.MetricKeys)
            {
                csv.Append(',');
                if (row.Values.TryGetValue(key, out double value))
                {
                    csv.Append(value.ToString("R", CultureInfo.InvariantCulture));
                }
            }
            csv.Append('\n');
        }
        return WriteAtomically("metrics.csv", csv.ToString());
    }

    /// <summary>summary.md: held-out accuracy and loss per model.</summary>
    public string WriteSummary(RunOptions options, IReadOnlyList<Evaluation> evaluations)
    {
        var md = new StringBuilder();
        md.Append("# Distillation run\n\n");
        md.Append($"Seed {options.Seed}, {options.Steps} steps per student (batch {options.BatchSize}, lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}), ");
        md.Append($"alpha {options.Alpha.ToString(CultureInfo.InvariantCulture)}, temperature {options.Temperature.ToString(CultureInfo.InvariantCulture)}, ");
        md.Append($"beta {options.Beta.ToString(CultureInfo.InvariantCulture)}, layers {string.Join(",", options.Layers)}, dynamic scales {options.Strategy}.\n\n");
        md.Append($"Held-out set: {SyntheticTask.TestExamples} examples.\n\n");
        md.Append("| model | held-out accuracy | held-out loss |\n| --- | ---: | ---: |\n");
        foreach (Evaluation e in evaluations)
        {
            md.Append($"| {e.Model} | {e.Accuracy.ToString("P2", CultureInfo.InvariantCulture)} | {e.Loss.ToString("F4", CultureInfo.InvariantCulture)} |\n");
        }
        return WriteAtomically("summary.md", md.ToString());
    }

    /// <summary>PNG plots of each term, the balanced terms and the scales over steps, one line per student.</summary>
    public IReadOnlyList<string> WritePlots()
    {
        var written = new List<string>();
        void Plot(string file, string title, params (string Student, Func<MetricRow, double?> Value, string Label, bool Target)[] series)
        {
            var plot = new ScottPlot.Plot();
            bool any = false;
            foreach (var (student, value, label, target) in series)
            {
                var points = _rows.Where(r => r.Student == student && value(r) is not null).ToList();
                if (points.Count == 0)
                {
                    continue;
                }
                var line = plot.Add.Scatter(points.Select(p => (double)p.Step).ToArray(), points.Select(p => value(p)!.Value).ToArray());
                line.LegendText = label;
                line.MarkerSize = 0;
                if (target)
                {
                    // Drawn wide and pale underneath, so the balanced term on top of it stays visible.
                    line.LineWidth = 6;
                    line.Color = line.Color.WithAlpha(0.35);
                }
                any = true;
            }
            if (!any)
            {
                return;
            }
            plot.Title(title);
            plot.XLabel("step");
            plot.ShowLegend(ScottPlot.Alignment.UpperRight);
            string path = Path.Combine(Folder, "plots", file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            plot.SavePng(path + ".tmp.png", 900, 500);
            File.Move(path + ".tmp.png", path, overwrite: true);
            written.Add(path);
        }

        Func<MetricRow, double?> Metric(string key) => row => row.Values.TryGetValue(key, out double v) ? v : null;
        Func<MetricRow, double?> Product(string key, string scale) => row => Metric(key)(row) * Metric(scale)(row);

        string[] students = _rows.Select(r => r.Student).Distinct().ToArray();
        foreach (string key in Training.MetricKeys.Where(k => !k.EndsWith("_scale", StringComparison.Ordinal)))
        {
            string name = key[(key.IndexOf('/') + 1)..];
            Plot($"{name}.png", key, students.Select(s => (s, Metric(key), s, false)).ToArray());
        }
        Plot("scales.png", "dynamic student: scales (no gradient)",
            ("dynamic", Metric("distill/out_proj_feature_loss_scale"), "out_proj_feature_loss_scale", false),
            ("dynamic", Metric("distill/kd_loss_scale"), "kd_loss_scale", false));
        // The balanced terms: each follows its target's magnitude.
        Plot("balanced_terms.png", "dynamic student: balanced terms and their targets",
            ("dynamic", Metric("distill/soft_loss"), "soft_loss (target)", true),
            ("dynamic", Product("distill/out_proj_feature_loss", "distill/out_proj_feature_loss_scale"), "out_proj_feature_loss * scale", false),
            ("dynamic", Metric("distill/hard_loss"), "hard_loss (target)", true),
            ("dynamic", Product("distill/kd_loss", "distill/kd_loss_scale"), "kd_loss * scale", false));
        return written;
    }

    private string WriteAtomically(string name, string content)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllText(path + ".tmp", content);
        File.Move(path + ".tmp", path, overwrite: true);
        return path;
    }

    public void Dispose()
    {
        foreach (SummaryWriter writer in _tensorBoard.Values)
        {
            (writer as IDisposable)?.Dispose();
        }
    }
}
