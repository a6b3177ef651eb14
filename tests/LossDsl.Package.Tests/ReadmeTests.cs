using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit;

namespace LossDsl.Package.Tests;

/// <summary>
/// The README shows real code: every C# and XML block in it is copied from a file that a test
/// compiles (the shared distillation loss, the package consumer, the example), and the
/// explanation it shows is the one a test checks against the generated constant.
/// </summary>
public class ReadmeTests
{
    private static readonly string s_repo = RepoRoot();

    /// <summary>Files that tests compile or build; a README block must be a run of lines of one of them.</summary>
    private static readonly string[] s_sources =
    {
        "tests/Shared/DistillationLoss.cs",
        "tests/LossDsl.Package.Tests/Consumer/DistillationLoss.cs",
        "tests/LossDsl.Package.Tests/Consumer/Program.cs",
        "tests/LossDsl.Package.Tests/Consumer/Consumer.csproj",
        "examples/Distillation/Distillation.csproj",
        "tests/LossDsl.Tests/DistillationLossTests.cs",
    };

    public static TheoryData<int, string, string> Blocks()
    {
        var data = new TheoryData<int, string, string>();
        string readme = File.ReadAllText(Path.Combine(s_repo, "README.md"));
        int index = 0;
        foreach (Match block in Regex.Matches(readme, "```(csharp|xml)\n(.*?)```", RegexOptions.Singleline))
        {
            data.Add(++index, block.Groups[1].Value, block.Groups[2].Value);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void TheBlockIsCopiedFromAFileThatATestCompiles(int index, string language, string block)
    {
        string[] lines = Normalize(block);
        Assert.NotEmpty(lines);
        foreach (string source in s_sources)
        {
            string[] file = Normalize(File.ReadAllText(Path.Combine(s_repo, source)));
            for (int start = 0; start + lines.Length <= file.Length; start++)
            {
                if (file.Skip(start).Take(lines.Length).SequenceEqual(lines))
                {
                    return;
                }
            }
        }
        Assert.Fail($"README {language} block {index} is not a run of lines of any of: {string.Join(", ", s_sources)}\n{block}");
    }

    [Fact]
    public void TheExplanationShownIsTheOneTheTestsCheck()
    {
        string readme = File.ReadAllText(Path.Combine(s_repo, "README.md"));
        Match shown = Regex.Match(readme, "```\n(Soft = Soft\\(.*?)```", RegexOptions.Singleline);
        Assert.True(shown.Success, "the README no longer shows the explanation text");

        string[] checkedLines = Normalize(File.ReadAllText(Path.Combine(s_repo, "tests/LossDsl.Tests/DistillationLossTests.cs")));
        foreach (string line in Normalize(shown.Groups[1].Value))
        {
            Assert.Contains(line, checkedLines);
        }
    }

    /// <summary>Lines trimmed, blank lines and the files' own namespace and doc-comment lines left out.</summary>
    private static string[] Normalize(string text) => text.ReplaceLineEndings("\n").Split('\n')
        .Select(l => l.Trim())
        .Where(l => l.Length > 0 && !l.StartsWith("namespace ", StringComparison.Ordinal) && !l.StartsWith("///", StringComparison.Ordinal))
        .ToArray();

    private static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
