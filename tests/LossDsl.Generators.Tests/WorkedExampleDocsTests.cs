using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// docs/language.md's per-layer worked example shows real code: each of its blocks is a run of lines
/// of the loss that LossDsl.Tests runs (WorkedExampleTests) or of the code generated for it (the
/// WorkedExamplePerLayerDistillation snapshot).
/// </summary>
public class WorkedExampleDocsTests
{
    private const string Heading = "## Worked example: per-layer distillation";

    public static string FixturePath => Path.Combine(RepoRoot(), "tests", "LossDsl.Tests", "Fixtures", "LayerwiseDistillation.cs");

    private static string GeneratedPath => Path.Combine(RepoRoot(), "tests", "LossDsl.Generators.Tests", "Snapshots",
        "GeneratedCodeSnapshots.WorkedExamplePerLayerDistillation#LossDsl.Tests.Fixtures.LayerwiseDistillationLoss.LossDsl.g.verified.cs");

    /// <summary>The VQGAN worked example of "Balancing by gradients", trained by GradientBalancingTests.</summary>
    private const string VqganHeading = "### Worked example: VQGAN's adaptive weight";

    public static string VqganFixturePath => Path.Combine(RepoRoot(), "tests", "LossDsl.Tests", "Fixtures", "GradientFixtures.cs");

    private static string VqganGeneratedPath => Path.Combine(RepoRoot(), "tests", "LossDsl.Generators.Tests", "Snapshots",
        "GeneratedCodeSnapshots.WorkedExampleVqgan#LossDsl.Tests.Fixtures.VqganLoss.LossDsl.g.verified.cs");

    public static TheoryData<int, string> Blocks() => BlocksOf(Heading);

    public static TheoryData<int, string> VqganBlocks() => BlocksOf(VqganHeading);

    private static TheoryData<int, string> BlocksOf(string heading)
    {
        string docs = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "language.md")).Replace("\r\n", "\n");
        int start = docs.IndexOf(heading + "\n", System.StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/language.md has no section '{heading}'");
        string level = heading.Substring(0, heading.IndexOf(' ') + 1);
        int end = docs.IndexOf("\n" + level, start + heading.Length, System.StringComparison.Ordinal);
        int parent = docs.IndexOf("\n## ", start + heading.Length, System.StringComparison.Ordinal);
        end = end < 0 ? parent : parent < 0 ? end : System.Math.Min(end, parent);
        string section = docs.Substring(start, (end < 0 ? docs.Length : end) - start);
        var data = new TheoryData<int, string>();
        int index = 0;
        foreach (Match block in Regex.Matches(section, "```csharp\n(.*?)```", RegexOptions.Singleline))
        {
            data.Add(++index, block.Groups[1].Value);
        }
        Assert.True(index >= 2, "the worked example shows the loss and its generated code");
        return data;
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void TheBlockIsCopiedFromTheTestedLossOrItsGeneratedCode(int index, string block)
        => AssertCopied(Heading, index, block, FixturePath, GeneratedPath);

    [Theory]
    [MemberData(nameof(VqganBlocks))]
    public void TheVqganBlockIsCopiedFromTheTestedLossOrItsGeneratedCode(int index, string block)
        => AssertCopied(VqganHeading, index, block, VqganFixturePath, VqganGeneratedPath);

    private static void AssertCopied(string heading, int index, string block, string fixturePath, string generatedPath)
    {
        string[] lines = Normalize(block);
        foreach (string source in new[] { fixturePath, generatedPath })
        {
            string[] file = Normalize(File.ReadAllText(source));
            for (int at = 0; at + lines.Length <= file.Length; at++)
            {
                if (file.Skip(at).Take(lines.Length).SequenceEqual(lines))
                {
                    return;
                }
            }
        }
        Assert.Fail($"Block {index} of '{heading}' is not a run of lines of {fixturePath} or {generatedPath}:\n{block}");
    }

    /// <summary>Lines without their indentation, blank lines and "…" elision lines dropped.</summary>
    private static string[] Normalize(string text)
        => text.Replace("\r\n", "\n").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l != "…" && l != "// …").ToArray();

    private static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
