using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace MultiTask;

/// <summary>
/// One row of the LibMTL-style table: each task's held-out metric, mean and standard deviation
/// over the seeds, and Δm% against equal weights.
/// </summary>
public sealed record MethodSummary(
    Method Method, int Seeds,
    double Accuracy, double AccuracyStd,
    double RegressionRmse, double RegressionRmseStd,
    double ReconstructionMse, double ReconstructionMseStd,
    double? Delta, double? DeltaStd)
{
    /// <summary>How the table's last column is computed, for the summary and the README.</summary>
    public const string DeltaDefinition =
        "Δm% = (1/T) Σ_t (−1)^l_t (M_m,t − M_equal,t) / M_equal,t · 100 over the T = 3 tasks, with l_t = 1 where lower is better " +
        "(RMSE, MSE) and 0 where higher is better (accuracy), so a positive Δm% is an improvement over equal weights " +
        "(Maninis, Radosavovic and Kokkinos, \"Attentive Single-Tasking of Multiple Tasks\", CVPR 2019; LibMTL's count_improvement). " +
        "It is computed per seed against equal weights on the same seed (same data, initial weights and batches), then averaged.";

    /// <summary>The table, in the order of <paramref name="methods"/>; Δm is null when equal weights did not run.</summary>
    public static IReadOnlyList<MethodSummary> Table(IReadOnlyList<Method> methods, IReadOnlyList<TaskMetrics> results)
    {
        var baseline = results.Where(r => r.Method == Method.Equal).ToDictionary(r => r.Seed);
        var table = new List<MethodSummary>();
        foreach (Method method in methods)
        {
            TaskMetrics[] runs = results.Where(r => r.Method == method).OrderBy(r => r.Seed).ToArray();
            var (accuracy, accuracyStd) = MeanStd(runs.Select(r => r.Accuracy));
            var (rmse, rmseStd) = MeanStd(runs.Select(r => r.RegressionRmse));
            var (mse, mseStd) = MeanStd(runs.Select(r => r.ReconstructionMse));
            double? delta = null, deltaStd = null;
            if (baseline.Count > 0)
            {
                (double d, double s) = MeanStd(runs.Select(r => DeltaM(r, baseline[r.Seed])));
                (delta, deltaStd) = (d, s);
            }
            table.Add(new MethodSummary(method, runs.Length, accuracy, accuracyStd, rmse, rmseStd, mse, mseStd, delta, deltaStd));
        }
        return table;
    }

    /// <summary>Δm% of one run against the baseline run on the same seed.</summary>
    public static double DeltaM(TaskMetrics run, TaskMetrics baseline)
    {
        double Relative(double value, double baseValue, bool lowerIsBetter)
            => (lowerIsBetter ? -1 : 1) * (value - baseValue) / baseValue;
        return 100.0 / 3 * (
            Relative(run.Accuracy, baseline.Accuracy, lowerIsBetter: false) +
            Relative(run.RegressionRmse, baseline.RegressionRmse, lowerIsBetter: true) +
            Relative(run.ReconstructionMse, baseline.ReconstructionMse, lowerIsBetter: true));
    }

    public string AccuracyText => Cell(Accuracy * 100, AccuracyStd * 100, "F2", " %");
    public string RegressionText => Cell(RegressionRmse, RegressionRmseStd, "F3", "");
    public string ReconstructionText => Cell(ReconstructionMse * 1e3, ReconstructionMseStd * 1e3, "F3", "");
    public string DeltaText => Delta is { } d ? Cell(d, DeltaStd!.Value, "+0.00;-0.00;0.00", "") : "n/a (no equal run)";

    private string Cell(double mean, double std, string format, string unit)
        => Seeds > 1
            ? $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {std.ToString(format.StartsWith('+') ? "0.00" : format, CultureInfo.InvariantCulture)}{unit}"
            : $"{mean.ToString(format, CultureInfo.InvariantCulture)}{unit}";

    /// <summary>The mean and the sample standard deviation (n − 1; 0 for one value).</summary>
    private static (double Mean, double Std) MeanStd(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return (mean, std);
    }
}
