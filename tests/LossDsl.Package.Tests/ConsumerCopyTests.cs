using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Xunit;

namespace LossDsl.Package.Tests;

/// <summary>
/// The consumer's loss is the one copy of tests/Shared/DistillationLoss.cs the repository keeps:
/// the consumer is built alone from the package and cannot link it, and it adds the metrics
/// prefix the README's Quickstart shows. This keeps the copy from drifting in anything else.
/// </summary>
public class ConsumerCopyTests
{
    private static readonly string s_repo = RepoRoot();

    [Fact]
    public void TheConsumersLossIsTheSharedOneWithAMetricsPrefix()
    {
        string[] shared = Code("tests/Shared/DistillationLoss.cs");
        string[] consumer = Code("tests/LossDsl.Package.Tests/Consumer/DistillationLoss.cs");

        Assert.Contains(consumer, line => line.Contains("MetricsPrefix = \"distill/\"", StringComparison.Ordinal));
        Assert.Equal(shared, consumer.Select(line => line.Replace(", MetricsPrefix = \"distill/\"", "", StringComparison.Ordinal)));
    }

    /// <summary>The file's lines, trimmed, without blank and comment-only lines and the namespace.</summary>
    private static string[] Code(string file) => File.ReadAllLines(Path.Combine(s_repo, file))
        .Select(l => l.Trim())
        .Where(l => l.Length > 0 && !l.StartsWith("//", StringComparison.Ordinal) && !l.StartsWith("namespace ", StringComparison.Ordinal))
        .ToArray();

    private static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
