using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using LossDsl.Examples;

namespace MultiTask;

/// <summary>
/// Everything a run writes under its output folder: TensorBoard event files (as it goes),
/// metrics.csv, PNG plots and summary.md (at the end). Files are written under a temporary
/// name and renamed when complete, so an interrupted run leaves no file that looks finished.
/// </summary>
public sealed class RunOutputs(string folder) : IDisposable
{
    private readonly List<MetricRow> _rows = new();
    private readonly OutputFiles _files = new(folder);

    public string Folder => _files.Folder;

    public IReadOnlyList<MetricRow> Rows => _rows;

    public void Log(MetricRow row)
    {
        _rows.Add(row);
        _files.AddScalars(Path.Combine(RunOptions.Name(row.Method), $"seed-{row.Seed}"), row.Step, row.Values);
    }

    /// <summary>metrics.csv: one row per logged step, method and seed; empty where a row has no such value.</summary>
    public string WriteCsv()
    {
        var csv = new StringBuilder();
        csv.Append("method,seed,step,").AppendJoin(',', Training.MetricKeys).Append('\n');
        foreach (MetricRow row in _rows)
        {
            csv.Append(RunOptions.Name(row.Method)).Append(',')
                .Append(row.Seed.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(row.Step.ToString(CultureInfo.InvariantCulture));
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
        return _files.WriteAtomically("metrics.csv", csv.ToString());
    }

    /// <summary>summary.md: the run's settings and the table of held-out metrics and Δm.</summary>
    public string WriteSummary(RunOptions options, IReadOnlyList<MethodSummary> table)
    {
        var md = new StringBuilder();
        md.Append("# Multi-task run\n\n");
        md.Append(FormattableString.Invariant($"Seeds {string.Join(", ", options.SeedList)}; {options.Steps} steps per method and seed (batch {options.BatchSize}, Adam lr {options.LearningRate}). "));
        md.Append(FormattableString.Invariant($"Held-out set: {SyntheticTasks.TestExamples} examples. Mean ± standard deviation over the seeds.\n\n"));
        md.Append("| method | accuracy ↑ | regression RMSE ↓ | reconstruction MSE ×10⁻³ ↓ | Δm% ↑ |\n| --- | ---: | ---: | ---: | ---: |\n");
        foreach (MethodSummary row in table)
        {
            md.Append($"| {RunOptions.Name(row.Method)} | {row.AccuracyText} | {row.RegressionText} | {row.ReconstructionText} | {row.DeltaText} |\n");
        }
        md.Append('\n').Append(MethodSummary.DeltaDefinition).Append('\n');
        return _files.WriteAtomically("summary.md", md.ToString());
    }

    /// <summary>
    /// PNG plots: each task's held-out metric over steps, one line per method (mean over the seeds);
    /// and for each method with weights, the factor on each task's loss over steps (first seed, log10).
    /// </summary>
    public IReadOnlyList<string> WritePlots()
    {
        var written = new List<string>();
        void Plot(string file, string title, string yLabel, IEnumerable<(string Label, double[] Steps, double[] Values)> series)
        {
            var plot = new ScottPlot.Plot();
            bool any = false;
            foreach (var (label, steps, values) in series.Where(s => s.Steps.Length > 0))
            {
                var line = plot.Add.Scatter(steps, values);
                line.LegendText = label;
                line.MarkerSize = steps.Length == 1 ? 5 : 0;
                any = true;
            }
            if (!any)
            {
                return;
            }
            plot.Title(title);
            plot.XLabel("step");
            plot.YLabel(yLabel);
            plot.ShowLegend(ScottPlot.Alignment.UpperRight);
            written.Add(_files.SavePng(plot, file));
        }

        Method[] methods = _rows.Select(r => r.Method).Distinct().ToArray();
        (string, string, string)[] heldOut =
        {
            (Training.Accuracy, "held-out accuracy (higher is better)", "accuracy"),
            (Training.RegressionRmse, "held-out regression RMSE (lower is better)", "RMSE"),
            (Training.ReconstructionMse, "held-out reconstruction MSE (lower is better)", "MSE"),
        };
        foreach (var (key, title, yLabel) in heldOut)
        {
            Plot($"{key[(key.IndexOf('/') + 1)..]}.png", title + ", mean over seeds", yLabel, methods.Select(method =>
            {
                var steps = _rows.Where(r => r.Method == method && r.Values.ContainsKey(key))
                    .GroupBy(r => r.Step)
                    .OrderBy(g => g.Key)
                    .ToArray();
                return (RunOptions.Name(method), steps.Select(g => (double)g.Key).ToArray(), steps.Select(g => g.Average(r => r.Values[key])).ToArray());
            }));
        }
        foreach (Method method in methods.Where(m => m != Method.Equal))
        {
            int seed = _rows.First(r => r.Method == method).Seed;
            var rows = _rows.Where(r => r.Method == method && r.Seed == seed && r.Values.ContainsKey("weight/classification")).ToArray();
            Plot($"weights_{RunOptions.Name(method)}.png", $"{RunOptions.Name(method)}: the factor on each task's loss (seed {seed})", "log10 weight",
                Training.Tasks.Select(task => (task,
                    rows.Select(r => (double)r.Step).ToArray(),
                    rows.Select(r => Math.Log10(r.Values["weight/" + task])).ToArray())));
        }
        return written;
    }

    public void Dispose() => _files.Dispose();
}
