using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using MultiTask;
using Xunit;
using static LossDsl.Tests.ExampleRuns;

namespace LossDsl.Tests;

/// <summary>The multi-task example, run for a few steps through its own entry point.</summary>
[Collection(ExampleTests.Collection)]
public sealed class MultiTaskExampleTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "lossdsl-multitask-" + Guid.NewGuid().ToString("N"));

    // Steps 1, 2, 4, 6, 8, 10 are logged; 5 and 10 are evaluated on the held-out set.
    private static readonly string[] ShortRun = { "--steps", "10", "--seeds", "2", "--log-every", "2", "--eval-every", "5", "--no-progress" };

    private static readonly string[] Methods = { "equal", "uncertainty", "dwa", "cov", "balance", "gradnorm" };

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void AShortRunWritesEveryOutputWithFiniteValues()
    {
        string folder = Path.Combine(_root, "run");
        var (code, output, error) = Run(ShortRun.Append("--out").Append(folder));

        Assert.True(code == 0, error);
        Assert.Empty(error);
        foreach (string method in Methods)
        {
            Assert.Contains($"{method,-11} seed 42: accuracy", output);
            Assert.Contains($"{method,-11} seed 43: accuracy", output);
            foreach (int seed in new[] { 42, 43 })
            {
                Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "tensorboard", method, $"seed-{seed}"), "events.out.tfevents.*"));
            }
        }
        string[] plots = { "accuracy", "regression_rmse", "reconstruction_mse", "weights_uncertainty", "weights_dwa", "weights_cov", "weights_balance", "weights_gradnorm" };
        AssertPlots(folder, plots);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp*", SearchOption.AllDirectories));

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        Assert.Equal(6 * 2 * 7, rows.Count); // steps 1, 2, 4, 5, 6, 8, 10 for each method and seed
        foreach (var row in rows)
        {
            foreach (var (key, value) in row.Where(kv => kv.Key is not ("method" or "step" or "seed") && kv.Value.Length > 0))
            {
                Assert.True(double.IsFinite(double.Parse(value, CultureInfo.InvariantCulture)), $"{key} = {value} at {row["method"]} seed {row["seed"]} step {row["step"]}");
            }
            bool logged = row["step"] is "1" or "2" or "4" or "6" or "8" or "10";
            bool evaluated = row["step"] is "5" or "10";
            Assert.Equal(logged, row["loss/total"].Length > 0);
            Assert.Equal(logged, row["weight/regression"].Length > 0);
            Assert.Equal(evaluated, row["heldout/accuracy"].Length > 0);
            Assert.Equal(evaluated, row["heldout/reconstruction_mse"].Length > 0);
            Assert.Equal(logged && row["method"] is "dwa" or "cov" or "gradnorm", row["loss/skipped_updates"].Length > 0);
        }

        string summary = File.ReadAllText(Path.Combine(folder, "summary.md"));
        Assert.Contains("Seeds 42, 43; 10 steps", summary);
        Assert.Contains("| equal | ", summary);
        Assert.Contains("| 0.00 ± 0.00 |", summary); // equal weights against themselves
        foreach (string method in Methods)
        {
            Assert.Single(summary.Split('\n'), line => line.StartsWith($"| {method} | ", StringComparison.Ordinal));
        }
        Assert.Contains("Δm%", output);
    }

    [Fact]
    public void TheTableIsTheMeanOverSeedsOfTheLastHeldOutEvaluation()
    {
        string folder = Path.Combine(_root, "table");
        var (code, _, error) = Run(ShortRun.Concat(new[] { "--methods", "equal,balance", "--out", folder }));
        Assert.True(code == 0, error);

        var last = ReadCsv(Path.Combine(folder, "metrics.csv")).Where(r => r["step"] == "10")
            .ToDictionary(r => (r["method"], r["seed"]), r => new TaskMetrics(
                r["method"] == "equal" ? Method.Equal : Method.Balance, int.Parse(r["seed"], CultureInfo.InvariantCulture),
                P(r["heldout/accuracy"]), P(r["heldout/regression_rmse"]), P(r["heldout/reconstruction_mse"])));
        Assert.Equal(4, last.Count);

        // Δm% by hand: relative change per task, sign flipped where lower is better, averaged, in percent.
        TaskMetrics equal42 = last[("equal", "42")], balance42 = last[("balance", "42")];
        double byHand = 100.0 / 3 * (
            (balance42.Accuracy - equal42.Accuracy) / equal42.Accuracy
            - (balance42.RegressionRmse - equal42.RegressionRmse) / equal42.RegressionRmse
            - (balance42.ReconstructionMse - equal42.ReconstructionMse) / equal42.ReconstructionMse);
        Assert.Equal(byHand, MethodSummary.DeltaM(balance42, equal42), 12);

        var table = MethodSummary.Table(new[] { Method.Equal, Method.Balance }, last.Values.ToList());
        MethodSummary balance = table[1];
        double[] accuracies = { last[("balance", "42")].Accuracy, last[("balance", "43")].Accuracy };
        Assert.Equal(accuracies.Average(), balance.Accuracy, 12);
        Assert.Equal(Math.Abs(accuracies[0] - accuracies[1]) / Math.Sqrt(2), balance.AccuracyStd, 12); // sample std of two values
        double[] deltas = { MethodSummary.DeltaM(last[("balance", "42")], last[("equal", "42")]), MethodSummary.DeltaM(last[("balance", "43")], last[("equal", "43")]) };
        Assert.Equal(deltas.Average(), balance.Delta!.Value, 12);
        Assert.Equal(0.0, table[0].Delta);

        string summary = File.ReadAllText(Path.Combine(folder, "summary.md"));
        Assert.Contains($"| balance | {balance.AccuracyText} | {balance.RegressionText} | {balance.ReconstructionText} | {balance.DeltaText} |", summary);
    }

    [Fact]
    public void MagnitudeBalanceScalesTheSmallerTasksToTheClassificationLoss()
    {
        string folder = Path.Combine(_root, "balance");
        var (code, _, error) = Run(ShortRun.Concat(new[] { "--methods", "balance", "--seeds", "1", "--out", folder }));
        Assert.True(code == 0, error);

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv")).Where(r => r["loss/total"].Length > 0).ToList();
        Assert.Equal(6, rows.Count);
        foreach (var row in rows)
        {
            double classification = P(row["loss/classification"]);
            Assert.Equal(1.0, P(row["weight/classification"]));
            Assert.Equal(classification, P(row["loss/regression"]) * P(row["weight/regression"]), classification * 1e-5);
            Assert.Equal(classification, P(row["loss/reconstruction"]) * P(row["weight/reconstruction"]), classification * 1e-5);
            Assert.Equal(3 * classification, P(row["loss/total"]), classification * 1e-5);
        }
    }

    [Fact]
    public void UncertaintyLearnsItsLogVariancesThroughTheNetworksOptimizer()
    {
        string folder = Path.Combine(_root, "uncertainty");
        var (code, _, error) = Run(ShortRun.Concat(new[] { "--methods", "uncertainty", "--seeds", "1", "--out", folder }));
        Assert.True(code == 0, error);

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv")).Where(r => r["loss/total"].Length > 0).ToList();
        // The weights exp(−s)/2 start at 1/2 (s = 0) and move only if the optimizer steps s.
        Assert.Equal(0.5, P(rows[0]["weight/regression"]), 6);
        Assert.NotEqual(0.5, P(rows[^1]["weight/regression"]), 6);
        // The regression's loss is in the hundreds: its variance grows and its weight falls.
        Assert.True(P(rows[^1]["weight/regression"]) < 0.5, rows[^1]["weight/regression"]);
    }

    [Fact]
    public void TheSameSeedsGiveAnIdenticalMetricsFile()
    {
        string first = Path.Combine(_root, "first"), second = Path.Combine(_root, "second");
        string[] options = ShortRun.Concat(new[] { "--seed", "7", "--methods", "dwa,gradnorm" }).ToArray();

        Assert.Equal(0, Run(options.Concat(new[] { "--out", first })).Code);
        Assert.Equal(0, Run(options.Concat(new[] { "--out", second })).Code);

        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "metrics.csv")), File.ReadAllBytes(Path.Combine(second, "metrics.csv")));
    }

    [Fact]
    public void WithoutEqualWeightsTheTableHasNoDelta()
    {
        string folder = Path.Combine(_root, "no-equal");
        var (code, output, error) = Run(ShortRun.Concat(new[] { "--methods", "cov", "--out", folder }));

        Assert.True(code == 0, error);
        Assert.Contains("n/a (no equal run)", output);
        Assert.Contains("| cov | ", File.ReadAllText(Path.Combine(folder, "summary.md")));
    }

    public static TheoryData<string[], string> BadOptions => new()
    {
        { new[] { "--steps", "0" }, "--steps must be at least 1, not 0" },
        { new[] { "--steps", "many" }, "--steps must be a whole number, not 'many'" },
        { new[] { "--seeds", "-1" }, "--seeds must be at least 1, not -1" },
        { new[] { "--seed", "2147483647", "--seeds", "2" }, "--seeds 2 from --seed 2147483647 goes past the largest seed, 2147483647" },
        { new[] { "--lr", "0" }, "--lr must be greater than 0, not 0" },
        { new[] { "--lr", "NaN" }, "--lr must be a number, not 'NaN'" },
        { new[] { "--methods", "equal,pcgrad" }, "--methods 'pcgrad' is not a method: use a comma-separated list of equal, uncertainty, dwa, cov, balance, gradnorm" },
        { new[] { "--methods", "dwa,DWA" }, "--methods 'dwa' is given twice" },
        { new[] { "--eval-every", "0" }, "--eval-every must be at least 1, not 0" },
        { new[] { "--device", "tpu" }, "--device must be one of cpu, cuda, auto, not 'tpu'" },
        { new[] { "--batch-size" }, "--batch-size needs a value" },
        { new[] { "--epochs", "3" }, "--epochs is not an option (see --help)" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void ABadOptionGivesAOneLineErrorAndExitCode2BeforeTraining(string[] arguments, string message)
    {
        string folder = Path.Combine(_root, "bad");
        var (code, output, error) = Run(arguments.Concat(new[] { "--out", folder }));

        Assert.Equal(2, code);
        Assert.Equal($"error: {message}", error.TrimEnd());
        Assert.Empty(output);
        Assert.False(Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any(), "training started");
    }

    [Fact]
    public void AnUnwritableOutputFolderIsReportedBeforeTraining()
        => AssertUnwritableOutputFolderIsReportedBeforeTraining(_root, Run);

    [Fact]
    public void HelpListsEveryOptionAndMethod()
    {
        var (code, output, _) = Run(new[] { "--help" });

        Assert.Equal(0, code);
        foreach (string option in new[] { "--steps", "--seeds", "--seed", "--batch-size", "--lr", "--methods", "--eval-every", "--log-every", "--threads", "--device", "--out", "--no-progress", "--help" })
        {
            Assert.Contains(option, output);
        }
        foreach (string method in Methods)
        {
            Assert.Contains($"  {method} ", output);
        }
    }

    private static (int Code, string Output, string Error) Run(IEnumerable<string> arguments) => ExampleRuns.Run(MultiTask.Program.Run, arguments);
}
