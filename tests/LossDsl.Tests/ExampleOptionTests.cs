using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Xunit;
using static LossDsl.Tests.ExampleRuns;
using static LossDsl.Tests.ExampleTests;
using static LossDsl.Tests.RelativeTolerance;

namespace LossDsl.Tests;

/// <summary>The distillation example's held-out evaluation, seeds, sweeps and real-data options, each run for a few steps.</summary>
[Collection(Collection)]
public sealed class ExampleOptionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "lossdsl-example-options-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void EvalEveryEvaluatesTheHeldOutSetAtTheFirstStepEveryNStepsAndTheLast()
    {
        string folder = Path.Combine(_root, "eval");
        var (code, _, error) = Run(ShortRun.Concat(new[] { "--mode", "fixed", "--eval-every", "5", "--out", folder }));
        Assert.True(code == 0, error);

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        // Logged every 2 steps and at every evaluation: 1, 2, 4, 5, 6, 8, 10, 12.
        Assert.Equal(new[] { "1", "2", "4", "5", "6", "8", "10", "12" }, rows.Select(r => r["step"]));
        Assert.Equal(new[] { "1", "5", "10", "12" }, rows.Where(r => r["eval/accuracy"].Length > 0).Select(r => r["step"]));
        Assert.All(rows.Where(r => r["eval/accuracy"].Length > 0), r =>
        {
            Assert.InRange(P(r["eval/accuracy"]), 0, 1);
            Assert.True(P(r["eval/loss"]) is > 0 and < 100, r["eval/loss"]);
        });
        // Training moves the held-out loss: the evaluation looks at the student being trained.
        Assert.NotEqual(rows[0]["eval/loss"], rows[^1]["eval/loss"]);
    }

    [Fact]
    public void SeveralSeedsReportMeanAndSpreadAndWhichDifferencesExceedIt()
    {
        string folder = Path.Combine(_root, "seeds");
        var (code, output, error) = Run(ShortRun.Concat(new[] { "--seeds", "3", "--seed", "5", "--out", folder }));
        Assert.True(code == 0, error);

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        Assert.Equal(new[] { "5", "6", "7" }, rows.Select(r => r["seed"]).Distinct());
        Assert.Equal(3 * 3 * 7, rows.Count);
        foreach (int seed in new[] { 5, 6, 7 })
        {
            Assert.True(File.Exists(Path.Combine(folder, "teacher", $"seed-{seed}", "teacher.bin")));
            foreach (string student in new[] { "hard", "fixed", "dynamic" })
            {
                Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "tensorboard", student, $"seed-{seed}"), "events.out.tfevents.*"));
            }
        }
        AssertPlots(folder, "heldout_accuracy", "heldout_loss", "effective_weights");

        // The summary's mean and standard deviation are those of the seeds' last evaluations.
        double[] accuracies = rows.Where(r => r["student"] == "dynamic" && r["step"] == "12").Select(r => P(r["eval/accuracy"])).ToArray();
        Assert.Equal(3, accuracies.Length);
        double mean = accuracies.Average();
        double std = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / 2);
        string expected = $"| dynamic | {(100 * mean).ToString("F2", CultureInfo.InvariantCulture)} ± {(100 * std).ToString("F2", CultureInfo.InvariantCulture)} % |";
        string summary = File.ReadAllText(Path.Combine(folder, "summary.md"));
        Assert.Contains(expected, summary);
        Assert.Contains("## Differences larger than the spread", summary);
        Assert.Contains("larger than the sum of the two standard deviations", summary);
        Assert.Contains("mean ± std, 3 seeds", output);
        Assert.Contains("Seeds 5, 6, 7,", summary);
    }

    [Fact]
    public void ABetaSweepTrainsTheFixedStudentAtEachValueAgainstTheDynamicStudentAtItsDefaults()
    {
        string folder = Path.Combine(_root, "sweep");
        var (code, output, error) = Run(ShortRun.Concat(new[] { "--seeds", "2", "--sweep", "beta=0.1,10", "--out", folder }));
        Assert.True(code == 0, error);

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        Assert.Equal(new[] { "hard", "fixed beta=0.1", "fixed beta=10", "dynamic" }, rows.Select(r => r["student"]).Distinct());
        Assert.All(rows.Where(r => r["student"] == "fixed beta=10"), r => Assert.Equal(10, P(r["weight/feature"])));
        Assert.All(rows.Where(r => r["student"] == "fixed beta=0.1"), r => Assert.Equal(0.1, P(r["weight/feature"])));
        AssertPlots(folder, "sweep", "heldout_accuracy");
        string summary = File.ReadAllText(Path.Combine(folder, "summary.md"));
        Assert.Contains("## Sweep of beta", summary);
        Assert.Contains("| beta | fixed | dynamic | Δ | beyond the spread |", summary);
        Assert.Contains("\n| 0.1 | ", summary);
        Assert.Contains("\n| 10 | ", summary);
        Assert.Contains("sweep", output);
    }

    [Fact]
    public void AnAlphaSweepMovesTheFixedStudentsWeightsAndLeavesTheDynamicStudentAtTheDefault()
    {
        string folder = Path.Combine(_root, "alpha");
        var (code, _, error) = Run(ShortRun.Concat(new[] { "--sweep", "alpha=0.2,0.8", "--out", folder }));
        Assert.True(code == 0, error);

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        Assert.Equal(new[] { "hard", "fixed alpha=0.2", "fixed alpha=0.8", "dynamic" }, rows.Select(r => r["student"]).Distinct());
        foreach (double alpha in new[] { 0.2, 0.8 })
        {
            Assert.All(rows.Where(r => r["student"] == FormattableString.Invariant($"fixed alpha={alpha}")), r =>
            {
                Assert.Equal(alpha, P(r["weight/soft"]));
                AssertClose(1 - alpha, P(r["weight/hard"]), 1e-12);
            });
        }
        Assert.All(rows.Where(r => r["student"] == "dynamic"), r => AssertClose(0.5 * P(r["distill/kd_loss_scale"]), P(r["weight/soft"]), 1e-12));
        AssertPlots(folder, "sweep");
        string summary = File.ReadAllText(Path.Combine(folder, "summary.md"));
        Assert.Contains("| alpha | fixed | dynamic | Δ | beyond the spread |", summary);
        Assert.Contains("| (one seed) |", summary);
    }

    [Fact]
    public void TheDynamicStudentIsUnmovedByTheFeatureLossesMagnitudeWhileTheFixedStudentIsNot()
    {
        string folder = Path.Combine(_root, "feature-scale");
        var (code, _, error) = Run(ShortRun.Concat(new[] { "--sweep", "feature-scale=1,100", "--out", folder }));
        Assert.True(code == 0, error);

        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        List<Dictionary<string, string>> Of(string student) => rows.Where(r => r["student"] == student).ToList();
        var (dynamic1, dynamic100) = (Of("dynamic feature-scale=1"), Of("dynamic feature-scale=100"));
        Assert.Equal(dynamic1.Count, dynamic100.Count);
        for (int i = 0; i < dynamic1.Count; i++)
        {
            // The feature loss is 100 times larger, its scale 100 times smaller: the same training.
            AssertClose(100 * P(dynamic1[i]["distill/out_proj_feature_loss"]), P(dynamic100[i]["distill/out_proj_feature_loss"]), 1e-4, dynamic1[i]["step"]);
            AssertClose(P(dynamic1[i]["distill/hard_loss"]), P(dynamic100[i]["distill/hard_loss"]), 1e-4, dynamic1[i]["step"]);
        }
        AssertClose(P(dynamic1[^1]["eval/loss"]), P(dynamic100[^1]["eval/loss"]), 1e-5, "held-out loss");
        // Fixed weights feel it (under Adam only through the parameters the terms share, so mildly
        // in 12 steps): the feature term reached their objective 100 times larger, and the
        // held-out loss moved by more than the dynamic student's tolerance.
        var (fixed1, fixed100) = (Of("fixed feature-scale=1"), Of("fixed feature-scale=100"));
        AssertClose(100 * P(fixed1[0]["distill/out_proj_feature_loss"]), P(fixed100[0]["distill/out_proj_feature_loss"]), 1e-4, "step 1");
        double heldOut1 = P(fixed1[^1]["eval/loss"]), heldOut100 = P(fixed100[^1]["eval/loss"]);
        Assert.True(Math.Abs(heldOut1 - heldOut100) > 1e-5 * heldOut1, $"{heldOut1} vs {heldOut100}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DataTrainsOnIdxFilesReadWithTorchSharpsReader(bool packed)
    {
        string data = WriteIdx(Path.Combine(_root, "idx"), packed, train: 1100, test: 60);
        string folder = Path.Combine(_root, "run");
        var (code, output, error) = Run(ShortRun.Concat(new[] { "--data", data, "--out", folder }));
        Assert.True(code == 0, error);

        Assert.Contains("data: ", output);
        Assert.Contains("(1100 teacher examples, the students see the first 1024, 60 held out)", output);
        // TorchSharp's reader wants the unpacked files under {root}/mnist/test_data.
        Assert.True(File.Exists(Path.Combine(folder, "data", "mnist", "test_data", "train-images-idx3-ubyte")));
        var rows = ReadCsv(Path.Combine(folder, "metrics.csv"));
        Assert.Equal(3 * 7, rows.Count);
        // Labels are a function of the images here, learnable: the students do better than chance.
        var last = rows.Where(r => r["step"] == "12" && r["student"] == "hard").Single();
        Assert.InRange(P(last["eval/accuracy"]), 0.2, 1);
        Assert.Contains(Path.GetFullPath(data), File.ReadAllText(Path.Combine(folder, "summary.md")));
        AssertPlots(folder, "heldout_accuracy", "effective_weights");
    }

    [Fact]
    public void BadDataIsReportedBeforeTraining()
    {
        string missing = Path.Combine(_root, "nowhere");
        string incomplete = WriteIdx(Path.Combine(_root, "incomplete"), packed: true, train: 1100, test: 60);
        File.Delete(Path.Combine(incomplete, "t10k-labels-idx1-ubyte.gz"));
        string wrong = WriteIdx(Path.Combine(_root, "wrong"), packed: false, train: 1100, test: 60);
        File.WriteAllBytes(Path.Combine(wrong, "train-labels-idx1-ubyte"), new byte[] { 0, 0, 8, 3, 0, 0, 0, 1 });
        string small = WriteIdx(Path.Combine(_root, "small"), packed: false, train: 100, test: 10);

        var cases = new[]
        {
            (missing, $"--data '{missing}' is not a folder"),
            (incomplete, $"--data '{incomplete}' has no t10k-labels-idx1-ubyte (nor t10k-labels-idx1-ubyte.gz)"),
            (wrong, $"--data {Path.Combine(wrong, "train-labels-idx1-ubyte")} is not an IDX label file (magic number 2051, expected 2049)"),
            (small, $"--data '{small}' has 100 training images; the students alone need 1024"),
        };
        foreach (var (folder, message) in cases)
        {
            string output = Path.Combine(_root, "out");
            var (code, text, error) = Run(new[] { "--data", folder, "--out", output });
            Assert.Equal(2, code);
            Assert.StartsWith($"error: {message}", error.TrimEnd());
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.Empty(text);
            Assert.False(Directory.Exists(Path.Combine(output, "teacher")), "training started");
        }
    }

    /// <summary>
    /// Writes MNIST-format IDX files of random 28×28 images whose label is the brightest of ten
    /// horizontal bands (learnable), packed (.gz) or not.
    /// </summary>
    private static string WriteIdx(string folder, bool packed, int train, int test)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(3);
        void Write(string prefix, int count)
        {
            var images = new byte[16 + count * 784];
            var labels = new byte[8 + count];
            BinaryPrimitives.WriteInt32BigEndian(images, 2051);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
            BinaryPrimitives.WriteInt32BigEndian(labels, 2049);
            BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
            for (int i = 0; i < count; i++)
            {
                int label = random.Next(10);
                labels[8 + i] = (byte)label;
                for (int p = 0; p < 784; p++)
                {
                    bool band = p / 28 / 3 == label;
                    images[16 + i * 784 + p] = (byte)random.Next(band ? 128 : 0, band ? 256 : 128);
                }
            }
            Save($"{prefix}-images-idx3-ubyte", images);
            Save($"{prefix}-labels-idx1-ubyte", labels);
        }
        void Save(string name, byte[] content)
        {
            if (!packed)
            {
                File.WriteAllBytes(Path.Combine(folder, name), content);
                return;
            }
            using var file = File.Create(Path.Combine(folder, name + ".gz"));
            using var gzip = new GZipStream(file, CompressionLevel.Fastest);
            gzip.Write(content);
        }
        Write("train", train);
        Write("t10k", test);
        return folder;
    }
}
