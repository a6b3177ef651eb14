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

    public static TheoryData<int, string> Blocks()
    {
        string docs = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "language.md")).Replace("\r\n", "\n");
        int start = docs.IndexOf(Heading + "\n", System.StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/language.md has no section '{Heading}'");
        int end = docs.IndexOf("\n## ", start + Heading.Length, System.StringComparison.Ordinal);
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
    {
        string[] lines = Normalize(block);
        foreach (string source in new[] { FixturePath, GeneratedPath })
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
        Assert.Fail($"Block {index} of '{Heading}' is not a run of lines of {FixturePath} or {GeneratedPath}:\n{block}");
    }

    /// <summary>Lines without their indentation, blank lines and "…" elision lines dropped.</summary>
    private static string[] Normalize(string text)
        => text.Replace("\r\n", "\n").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l != "…" && l != "// …").ToArray();

    private static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
