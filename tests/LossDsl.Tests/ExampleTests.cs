using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Distillation;
using Xunit;
using static LossDsl.Tests.ExampleRuns;
using static LossDsl.Tests.RelativeTolerance;

namespace LossDsl.Tests;

/// <summary>The distillation example, run for a few steps through its own entry point.</summary>
[Collection(Collection)]
public sealed class ExampleTests : IDisposable
{
    /// <summary>
    /// The examples' tests (distillation and multi-task) run one at a time: a run seeds libtorch's
    /// global generator, so two runs at once (xUnit runs test classes in parallel) would draw from
    /// each other's sequence.
    /// </summary>
    public const string Collection = "Examples";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "lossdsl-example-" + Guid.NewGuid().ToString("N"));

    internal static readonly string[] ShortRun = { "--steps", "12", "--teacher-steps", "15", "--log-every", "2", "--no-progress" };

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
        Assert.Contains("held-out accuracy", output);
        foreach (string file in new[] { "metrics.csv", "summary.md", "teacher/seed-42/teacher.bin", "teacher/seed-42/teacher.key" })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), $"{file} is missing");
        }
        AssertPlots(folder, "heldout_accuracy", "heldout_loss", "effective_weights", "hard_loss", "soft_loss", "out_proj_feature_loss", "kd_loss", "scales", "balanced_terms");
        // Training-batch accuracy and a total_loss overlaying three objectives are not plotted.
        Assert.False(File.Exists(Path.Combine(folder, "plots", "accuracy.png")));
        Assert.False(File.Exists(Path.Combine(folder, "plots", "total_loss.png")));
        foreach (string student in new[] { "hard", "fixed", "dynamic" })
        {
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "tensorboard", student), "events.out.tfevents.*"));
        }
        Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        Assert.Equal(3 * 7, rows.Count); // steps 1, 2, 4, …, 12 for each student
        Assert.Equal(Distillation.Training.MetricKeys, rows[0].Keys.Skip(3));
        foreach (var row in rows)
        {
            Assert.Equal("42", row["seed"]);
            foreach (var (key, value) in row.Where(kv => kv.Key is not ("student" or "seed" or "step") && kv.Value.Length > 0))
            {
                Assert.True(double.IsFinite(double.Parse(value, CultureInfo.InvariantCulture)), $"{key} = {value} at {row["student"]} step {row["step"]}");
            }
            // Held out at the first and last step only (the default --eval-every 20 is longer than the run).
            bool evaluated = row["step"] is "1" or "12";
            Assert.Equal(evaluated, row["eval/accuracy"].Length > 0);
            Assert.Equal(evaluated, row["eval/loss"].Length > 0);
            if (evaluated)
            {
                Assert.InRange(P(row["eval/accuracy"]), 0, 1);
                Assert.True(P(row["eval/loss"]) > 0);
            }
            switch (row["student"])
            {
                case "hard":
                    Assert.Equal(1, P(row["weight/hard"]));
                    Assert.Equal("", row["weight/soft"]);
                    break;
                case "fixed": // the constants: 1 - alpha, alpha, beta
                    Assert.Equal((0.5, 0.5, 1.0), (P(row["weight/hard"]), P(row["weight/soft"]), P(row["weight/feature"])));
                    break;
                case "dynamic": // alpha * kd_scale on the soft term, alpha * kd_scale * feature_scale on the feature term
                    double soft = 0.5 * P(row["distill/kd_loss_scale"]);
                    AssertClose(soft, P(row["weight/soft"]), 1e-12, row["step"]);
                    AssertClose(soft * P(row["distill/out_proj_feature_loss_scale"]), P(row["weight/feature"]), 1e-12, row["step"]);
                    Assert.Equal(1, P(row["weight/hard"]));
                    break;
                default:
                    Assert.Fail($"unexpected student {row["student"]}");
                    break;
            }
        }
        // The summary's held-out figures are the last evaluation's.
        var lastFixed = rows.Last(r => r["student"] == "fixed");
        Assert.Contains($"| fixed | {P(lastFixed["eval/accuracy"]).ToString("P2", CultureInfo.InvariantCulture)} | {P(lastFixed["eval/loss"]).ToString("F4", CultureInfo.InvariantCulture)} |", File.ReadAllText(Path.Combine(folder, "summary.md")));
        string summary = File.ReadAllText(Path.Combine(folder, "summary.md"));
        foreach (string model in new[] { "teacher", "hard", "fixed", "dynamic" })
        {
            Assert.Contains($"| {model} |", summary);
        }
    }

    [Fact]
    public void TheDynamicStudentsBalancedTermsMatchTheirTargetsAtEveryLoggedStep()
    {
        string folder = Path.Combine(_root, "dynamic");
        var (code, _, error) = Run(ShortRun.Concat(new[] { "--mode", "dynamic", "--out", folder }));
        Assert.True(code == 0, error);

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        Assert.NotEmpty(rows);
        Assert.True(File.Exists(Path.Combine(folder, "plots", "heldout_accuracy.png")));
        int checkedSteps = 0;
        foreach (var row in rows)
        {
            double V(string key) => double.Parse(row[key], CultureInfo.InvariantCulture);
            double soft = V("distill/soft_loss"), feature = V("distill/out_proj_feature_loss"), featureScale = V("distill/out_proj_feature_loss_scale");
            double hard = V("distill/hard_loss"), kd = V("distill/kd_loss"), kdScale = V("distill/kd_loss_scale");
            const double eps = 1e-8; // Balance's default guard
            const double tolerance = 1e-5;
            if (Math.Min(soft, feature) > eps)
            {
                AssertClose(soft, feature * featureScale, tolerance, $"step {row["step"]}");
            }
            if (Math.Min(hard, kd) > eps)
            {
                AssertClose(hard, kd * kdScale, tolerance, $"step {row["step"]}");
                checkedSteps++;
            }
        }
        Assert.Equal(rows.Count, checkedSteps); // the guards never applied in this run, so every step was checked
    }

    [Fact]
    public void TheEmaStrategyTrainsTheDynamicStudentWithSmoothedScales()
    {
        string plain = Path.Combine(_root, "plain"), ema = Path.Combine(_root, "ema");
        string[] options = ShortRun.Concat(new[] { "--mode", "dynamic" }).ToArray();

        Assert.Equal(0, Run(options.Concat(new[] { "--out", plain })).Code);
        var (code, _, error) = Run(options.Concat(new[] { "--strategy", "ema", "--out", ema }));
        Assert.True(code == 0, error);

        var plainRows = ReadCsv(Path.Combine(plain, "metrics.csv"));
        var emaRows = ReadCsv(Path.Combine(ema, "metrics.csv"));
        Assert.Equal(plainRows.Count, emaRows.Count);
        // The first update of a bias-corrected average is the value itself; later scales differ.
        double P(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);
        Assert.Equal(P(plainRows[0]["distill/kd_loss_scale"]), P(emaRows[0]["distill/kd_loss_scale"]), 1e-5);
        Assert.NotEqual(plainRows[^1]["distill/kd_loss_scale"], emaRows[^1]["distill/kd_loss_scale"]);
        Assert.All(emaRows, row => Assert.True(double.IsFinite(double.Parse(row["distill/total_loss"], CultureInfo.InvariantCulture))));
        Assert.Contains("dynamic scales ema", File.ReadAllText(Path.Combine(ema, "summary.md")));
    }

    [Fact]
    public void TheSameSeedGivesAnIdenticalMetricsFile()
    {
        string first = Path.Combine(_root, "first"), second = Path.Combine(_root, "second");
        string[] options = ShortRun.Concat(new[] { "--seed", "7" }).ToArray();

        Assert.Equal(0, Run(options.Concat(new[] { "--out", first })).Code);
        Assert.Equal(0, Run(options.Concat(new[] { "--out", second })).Code);

        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "metrics.csv")), File.ReadAllBytes(Path.Combine(second, "metrics.csv")));
    }

    [Fact]
    public void ACachedTeacherIsReusedAndGivesTheSameRun()
    {
        string folder = Path.Combine(_root, "cached");
        string[] options = ShortRun.Concat(new[] { "--mode", "hard", "--out", folder }).ToArray();
        Assert.Equal(0, Run(options).Code);
        byte[] firstMetrics = File.ReadAllBytes(Path.Combine(folder, "metrics.csv"));

        var (code, output, _) = Run(options);

        Assert.Equal(0, code);
        Assert.Contains("teacher: loaded from", output);
        Assert.Equal(firstMetrics, File.ReadAllBytes(Path.Combine(folder, "metrics.csv")));
    }

    public static TheoryData<string[], string> BadOptions => new()
    {
        { new[] { "--steps", "-5" }, "--steps must be at least 1, not -5" },
        { new[] { "--steps", "many" }, "--steps must be a whole number, not 'many'" },
        { new[] { "--temperature", "0" }, "--temperature must be greater than 0, not 0" },
        { new[] { "--temperature", "-1.5" }, "--temperature must be greater than 0, not -1.5" },
        { new[] { "--mode", "fast" }, "--mode must be one of all, hard, fixed, dynamic, not 'fast'" },
        { new[] { "--layers", "1,7" }, "--layers index 7 is out of range: the models have 4 hidden layers (0..3)" },
        { new[] { "--layers", "1,x" }, "--layers must be a comma-separated list of layer indices, not '1,x'" },
        { new[] { "--alpha", "1.5" }, "--alpha must be between 0 and 1, not 1.5" },
        { new[] { "--device", "tpu" }, "--device must be one of cpu, cuda, auto, not 'tpu'" },
        { new[] { "--lr" }, "--lr needs a value" },
        { new[] { "--epochs", "3" }, "--epochs is not an option (see --help)" },
        { new[] { "--strategy", "dwa" }, "--strategy must be one of plain, ema, not 'dwa'" },
        { new[] { "--eval-every", "0" }, "--eval-every must be at least 1, not 0" },
        { new[] { "--seeds", "0" }, "--seeds must be at least 1, not 0" },
        { new[] { "--feature-scale", "0" }, "--feature-scale must be greater than 0, not 0" },
        { new[] { "--sweep", "gamma=1,2" }, "--sweep must be beta=…, alpha=… or feature-scale=… followed by comma-separated values, not 'gamma=1,2'" },
        { new[] { "--sweep", "beta" }, "--sweep needs values after 'beta=', e.g. beta=0.1,1,10" },
        { new[] { "--sweep", "beta=" }, "--sweep needs values after 'beta=', e.g. beta=0.1,1,10" },
        { new[] { "--sweep", "beta=0.1,x" }, "--sweep beta value 'x' is not a number" },
        { new[] { "--sweep", "beta=0.1,-1" }, "--sweep beta value -1 must be 0 or more" },
        { new[] { "--sweep", "alpha=0.5,2" }, "--sweep alpha value 2 must be between 0 and 1" },
        { new[] { "--sweep", "feature-scale=0" }, "--sweep feature-scale value 0 must be greater than 0" },
        { new[] { "--sweep", "beta=1,1" }, "--sweep beta value 1 is given twice" },
        { new[] { "--sweep", "beta=1,10", "--mode", "fixed" }, "--sweep compares the fixed and dynamic students: it cannot be combined with --mode fixed" },
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
        Assert.False(Directory.Exists(Path.Combine(folder, "teacher")), "training started");
        Assert.False(Directory.Exists(Path.Combine(folder, "plots")), "training started");
    }

    [Fact]
    public void AnUnwritableOutputFolderIsReportedBeforeTraining()
        => AssertUnwritableOutputFolderIsReportedBeforeTraining(_root, Run);

    [Fact]
    public void HelpListsEveryOption()
    {
        var (code, output, _) = Run(new[] { "--help" });

        Assert.Equal(0, code);
        foreach (string option in new[] { "--steps", "--batch-size", "--lr", "--alpha", "--temperature", "--beta", "--layers", "--seed", "--threads", "--device", "--out", "--mode", "--strategy", "--eval-every", "--seeds", "--feature-scale", "--data", "--sweep" })
        {
            Assert.Contains(option, output);
        }
    }

    internal static (int Code, string Output, string Error) Run(IEnumerable<string> arguments) => ExampleRuns.Run(Program.Run, arguments);
}
