using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using LossDsl.Examples;

namespace Distillation;

/// <summary>
/// Everything a run writes under its output folder: TensorBoard event files (as it goes),
/// metrics.csv, PNG plots and summary.md (at the end). Files are written under a temporary
/// name and renamed when complete, so an interrupted run leaves no file that looks finished.
/// </summary>
public sealed class RunOutputs(string folder, bool perSeed) : IDisposable
{
    private readonly List<MetricRow> _rows = new();
    private readonly OutputFiles _files = new(folder);

    public string Folder => _files.Folder;

    public IReadOnlyList<MetricRow> Rows => _rows;

    public void Log(MetricRow row)
    {
        _rows.Add(row);
        // One TensorBoard run per student, or per student and seed when there are several seeds.
        string run = (perSeed ? $"{row.Student}/seed-{row.Seed}" : row.Student).Replace(' ', '_');
        _files.AddScalars(run, row.Step, row.Values);
    }

    /// <summary>metrics.csv: one row per logged step, student and seed; empty where a row has no such value.</summary>
    public string WriteCsv()
    {
        var csv = new StringBuilder();
        csv.Append("student,seed,step,").AppendJoin(',', Training.MetricKeys).Append('\n');
        foreach (MetricRow row in _rows)
        {
            csv.Append(row.Student).Append(',').Append(row.Seed.ToString(CultureInfo.InvariantCulture))
                .Append(',').Append(row.Step.ToString(CultureInfo.InvariantCulture));
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

    /// <summary>
    /// summary.md: held-out accuracy and loss per model (mean ± standard deviation over the seeds),
    /// which differences exceed the spread, and the sweep's table.
    /// </summary>
    public string WriteSummary(RunOptions options, string data, IReadOnlyList<Evaluation> evaluations)
    {
        static string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.Append("# Distillation run\n\n");
        md.Append($"Seeds {string.Join(", ", options.AllSeeds)}, {options.Steps} steps per student (batch {options.BatchSize}, lr {F(options.LearningRate)}), ");
        md.Append($"alpha {F(options.Alpha)}, temperature {F(options.Temperature)}, ");
        md.Append($"beta {F(options.Beta)}, feature scale {F(options.FeatureScale)}, layers {string.Join(",", options.Layers)}, dynamic scales {options.Strategy}.\n\n");
        md.Append($"Data: {data}.\n\n");
        IReadOnlyList<ModelStatistics> models = ModelStatistics.Of(evaluations);
        md.Append($"Final held-out accuracy and loss, {(options.Seeds == 1 ? "one seed" : $"mean ± standard deviation over {options.Seeds} seeds")}:\n\n");
        md.Append("| model | held-out accuracy | held-out loss |\n| --- | ---: | ---: |\n");
        foreach (ModelStatistics m in models)
        {
            md.Append($"| {m.Model} | {m.AccuracyText} | {m.LossText} |\n");
        }
        md.Append("\n## Differences larger than the spread\n\n");
        if (options.Seeds == 1)
        {
            md.Append("One seed: there is no spread to compare against (run with --seeds N).\n");
        }
        else
        {
            md.Append("Rule: a difference in mean held-out accuracy counts when it is larger than the sum of the two standard deviations (sample standard deviations over the seeds).\n\n");
            var students = models.Where(m => m.Model != "teacher").ToList();
            int larger = 0;
            for (int i = 0; i < students.Count; i++)
            {
                for (int j = i + 1; j < students.Count; j++)
                {
                    var (a, b) = students[i].AccuracyMean >= students[j].AccuracyMean ? (students[i], students[j]) : (students[j], students[i]);
                    if (a.AccuracyMean - b.AccuracyMean > a.AccuracyStd + b.AccuracyStd)
                    {
                        md.Append($"- {a.Model} beats {b.Model}: {Points(a.AccuracyMean - b.AccuracyMean)} > {Points(a.AccuracyStd + b.AccuracyStd)}\n");
                        larger++;
                    }
                }
            }
            md.Append(larger == 0 ? "No difference between students is larger than the spread.\n" : "\nEvery other difference between students is within the spread.\n");
        }
        if (options.Sweep is { } sweep)
        {
            md.Append($"\n## Sweep of {sweep.Parameter}\n\n");
            md.Append($"Held-out accuracy of the fixed-weights student at each {sweep.Parameter}, against the dynamic student ");
            md.Append(sweep.Parameter == "feature-scale" ? "at the same feature scale and its default weights" : "at its defaults");
            md.Append(" (Δ = fixed − dynamic; \"beyond the spread\" when |Δ| is larger than the sum of the standard deviations):\n\n");
            md.Append($"| {sweep.Parameter} | fixed | dynamic | Δ | beyond the spread |\n| ---: | ---: | ---: | ---: | --- |\n");
            foreach (double value in sweep.Values)
            {
                ModelStatistics fixedAt = models.Single(m => m.Model == SweepLabel("fixed", sweep, value));
                ModelStatistics dynamicAt = models.Single(m => m.Model == (sweep.Parameter == "feature-scale" ? SweepLabel("dynamic", sweep, value) : "dynamic"));
                double delta = fixedAt.AccuracyMean - dynamicAt.AccuracyMean;
                bool beyond = options.Seeds > 1 && Math.Abs(delta) > fixedAt.AccuracyStd + dynamicAt.AccuracyStd;
                string verdict = options.Seeds == 1 ? "(one seed)" : beyond ? (delta > 0 ? "yes: fixed ahead" : "yes: dynamic ahead") : "no";
                md.Append($"| {F(value)} | {fixedAt.AccuracyText} | {dynamicAt.AccuracyText} | {(delta >= 0 ? "+" : "−")}{Points(Math.Abs(delta))} | {verdict} |\n");
            }
        }
        return _files.WriteAtomically("summary.md", md.ToString());
    }

    /// <summary>The name of a student trained at one value of a sweep.</summary>
    public static string SweepLabel(string student, Sweep sweep, double value)
        => FormattableString.Invariant($"{student} {sweep.Parameter}={value}");

    private static string Points(double difference) => (100 * difference).ToString("F2", CultureInfo.InvariantCulture) + " points";

    /// <summary>
    /// sweep.png: final held-out accuracy (mean over the seeds, bars of ± one standard deviation)
    /// against the swept value, for the fixed student, the dynamic student and hard labels.
    /// </summary>
    public string WriteSweepPlot(Sweep sweep, IReadOnlyList<Evaluation> evaluations)
    {
        IReadOnlyList<ModelStatistics> models = ModelStatistics.Of(evaluations);
        bool logarithmic = sweep.Values.All(v => v > 0);
        double[] xs = sweep.Values.Select(v => logarithmic ? Math.Log10(v) : v).ToArray();
        var plot = new ScottPlot.Plot();
        void Series(string label, Func<double, string> model)
        {
            ModelStatistics[] points = sweep.Values.Select(v => models.Single(m => m.Model == model(v))).ToArray();
            double[] means = points.Select(p => 100 * p.AccuracyMean).ToArray();
            var line = plot.Add.Scatter(xs, means);
            line.LegendText = label;
            var bars = plot.Add.ErrorBar(xs, means, points.Select(p => 100 * p.AccuracyStd).ToArray());
            bars.Color = line.Color;
        }
        Series("fixed weights", v => SweepLabel("fixed", sweep, v));
        Series(sweep.Parameter == "feature-scale" ? "dynamic balancing" : "dynamic balancing (defaults)",
            v => sweep.Parameter == "feature-scale" ? SweepLabel("dynamic", sweep, v) : "dynamic");
        Series("hard labels only", _ => "hard");
        plot.Title($"held-out accuracy against {sweep.Parameter}");
        plot.XLabel(logarithmic ? $"log10 {sweep.Parameter}" : sweep.Parameter);
        plot.YLabel("held-out accuracy (%)");
        plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
        return _files.SavePng(plot, "sweep.png");
    }

    /// <summary>
    /// PNG plots, one line per student: held-out accuracy and loss over steps (mean over the seeds),
    /// the effective weight of each term, and (first seed) each term, the dynamic student's scales
    /// and its balanced terms.
    /// </summary>
    public IReadOnlyList<string> WritePlots()
    {
        var written = new List<string>();
        int firstSeed = _rows.Count == 0 ? 0 : _rows[0].Seed;
        int seeds = _rows.Select(r => r.Seed).Distinct().Count();
        void Plot(string file, string title, string? yLabel, ScottPlot.Alignment legend, params (string Student, Func<MetricRow, double?> Value, string Label, bool Target, bool AllSeeds)[] series)
        {
            var plot = new ScottPlot.Plot();
            bool any = false;
            foreach (var (student, value, label, target, allSeeds) in series)
            {
                // Over all seeds: the mean at each step; otherwise the first seed's values.
                var points = _rows.Where(r => r.Student == student && (allSeeds || r.Seed == firstSeed) && value(r) is not null)
                    .GroupBy(r => r.Step)
                    .Select(g => (Step: (double)g.Key, Value: g.Average(r => value(r)!.Value)))
                    .ToList();
                if (points.Count == 0)
                {
                    continue;
                }
                var line = plot.Add.Scatter(points.Select(p => p.Step).ToArray(), points.Select(p => p.Value).ToArray());
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
            if (yLabel is not null)
            {
                plot.YLabel(yLabel);
            }
            plot.ShowLegend(legend);
            written.Add(_files.SavePng(plot, file));
        }

        Func<MetricRow, double?> Metric(string key) => row => row.Values.TryGetValue(key, out double v) ? v : null;
        Func<MetricRow, double?> Product(string key, string scale) => row => Metric(key)(row) * Metric(scale)(row);

        string[] students = _rows.Select(r => r.Student).Distinct().ToArray();
        string mean = seeds == 1 ? "" : $", mean of {seeds} seeds";
        string first = seeds == 1 ? "" : $" (seed {firstSeed})";
        Plot("heldout_accuracy.png", $"held-out accuracy{mean}", "accuracy", ScottPlot.Alignment.LowerRight,
            students.Select(s => (s, (Func<MetricRow, double?>)(r => Metric("eval/accuracy")(r) * 100), s, false, true)).ToArray());
        Plot("heldout_loss.png", $"held-out loss (cross-entropy){mean}", "loss", ScottPlot.Alignment.UpperRight,
            students.Select(s => (s, Metric("eval/loss"), s, false, true)).ToArray());
        Plot("effective_weights.png", $"effective weights{first} (dynamic: soft alpha*kd_scale, feature alpha*kd_scale*feature_scale)", "weight", ScottPlot.Alignment.UpperRight,
            students.Where(s => _rows.Any(r => r.Student == s && r.Values.ContainsKey("weight/soft")))
                .SelectMany(s => new[]
                {
                    (s, Metric("weight/soft"), $"{s}: soft", false, false),
                    (s, Metric("weight/feature"), $"{s}: feature", false, false),
                }).ToArray());
        foreach (string key in new[] { "distill/hard_loss", "distill/soft_loss", "distill/out_proj_feature_loss", "distill/kd_loss" })
        {
            string name = key[(key.IndexOf('/') + 1)..];
            Plot($"{name}.png", key + first, null, ScottPlot.Alignment.UpperRight, students.Select(s => (s, Metric(key), s, false, false)).ToArray());
        }
        Plot("scales.png", $"dynamic student: scales (no gradient){first}", null, ScottPlot.Alignment.UpperRight,
            ("dynamic", Metric("distill/out_proj_feature_loss_scale"), "out_proj_feature_loss_scale", false, false),
            ("dynamic", Metric("distill/kd_loss_scale"), "kd_loss_scale", false, false));
        // The balanced terms: each follows its target's magnitude.
        Plot("balanced_terms.png", $"dynamic student: balanced terms and their targets{first}", null, ScottPlot.Alignment.UpperRight,
            ("dynamic", Metric("distill/soft_loss"), "soft_loss (target)", true, false),
            ("dynamic", Product("distill/out_proj_feature_loss", "distill/out_proj_feature_loss_scale"), "out_proj_feature_loss * scale", false, false),
            ("dynamic", Metric("distill/hard_loss"), "hard_loss (target)", true, false),
            ("dynamic", Product("distill/kd_loss", "distill/kd_loss_scale"), "kd_loss * scale", false, false));
        return written;
    }

    public void Dispose() => _files.Dispose();
}

/// <summary>A model's final held-out accuracy and loss over the seeds: mean and sample standard deviation (0 for one seed).</summary>
public sealed record ModelStatistics(string Model, int Seeds, double AccuracyMean, double AccuracyStd, double LossMean, double LossStd)
{
    /// <summary>One entry per model, in the order the models first appear.</summary>
    public static IReadOnlyList<ModelStatistics> Of(IEnumerable<Evaluation> evaluations)
        => evaluations.GroupBy(e => e.Model).Select(g =>
        {
            double[] accuracy = g.Select(e => e.Accuracy).ToArray(), loss = g.Select(e => e.Loss).ToArray();
            return new ModelStatistics(g.Key, accuracy.Length, accuracy.Average(), Std(accuracy), loss.Average(), Std(loss));
        }).ToArray();

    public string AccuracyText => Seeds == 1
        ? AccuracyMean.ToString("P2", CultureInfo.InvariantCulture)
        : $"{(100 * AccuracyMean).ToString("F2", CultureInfo.InvariantCulture)} ± {(100 * AccuracyStd).ToString("F2", CultureInfo.InvariantCulture)} %";

    public string LossText => Seeds == 1
        ? LossMean.ToString("F4", CultureInfo.InvariantCulture)
        : $"{LossMean.ToString("F4", CultureInfo.InvariantCulture)} ± {LossStd.ToString("F4", CultureInfo.InvariantCulture)}";

    private static double Std(double[] values)
    {
        if (values.Length < 2)
        {
            return 0;
        }
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }
}
