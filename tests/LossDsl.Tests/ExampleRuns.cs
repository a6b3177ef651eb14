using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;

namespace LossDsl.Tests;

/// <summary>What the examples' tests share: running an example's entry point, reading its outputs, and the checks every example must pass.</summary>
internal static class ExampleRuns
{
    /// <summary>Runs an example's <c>Program.Run</c> on <paramref name="arguments"/>; its exit code and what it wrote to output and error.</summary>
    public static (int Code, string Output, string Error) Run(Func<IReadOnlyList<string>, TextWriter, TextWriter, int> entry, IEnumerable<string> arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = entry(arguments.ToArray(), output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A CSV cell as a number.</summary>
    public static double P(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);

    /// <summary>metrics.csv's rows, each by column name; every row must have one cell per column.</summary>
    public static List<Dictionary<string, string>> ReadCsv(string path)
    {
        string[] lines = File.ReadAllLines(path);
        string[] header = lines[0].Split(',');
        return lines.Skip(1).Select(line =>
        {
            string[] cells = line.Split(',');
            Assert.Equal(header.Length, cells.Length);
            return header.Zip(cells).ToDictionary(p => p.First, p => p.Second);
        }).ToList();
    }

    /// <summary>Each of <paramref name="plots"/> is a PNG file of more than 1000 bytes under <c>plots/</c>.</summary>
    public static void AssertPlots(string folder, params string[] plots)
    {
        foreach (string plot in plots)
        {
            var png = new FileInfo(Path.Combine(folder, "plots", plot + ".png"));
            Assert.True(png.Exists && png.Length > 1000, $"plot {plot}.png is missing or empty");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png.FullName)[..4]);
        }
    }

    /// <summary>
    /// An output folder below a file cannot be written: the run stops with exit code 2 and a
    /// one-line error naming <c>--out</c> and the folder, before writing any output.
    /// </summary>
    public static void AssertUnwritableOutputFolderIsReportedBeforeTraining(string root, Func<IEnumerable<string>, (int Code, string Output, string Error)> run)
    {
        string blocker = Path.Combine(root, "a-file");
        Directory.CreateDirectory(root);
        File.WriteAllText(blocker, "not a folder");

        var (code, output, error) = run(new[] { "--out", Path.Combine(blocker, "run") });

        Assert.Equal(2, code);
        Assert.StartsWith($"error: --out cannot write to '{Path.Combine(blocker, "run")}'", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Empty(output);
    }
}
