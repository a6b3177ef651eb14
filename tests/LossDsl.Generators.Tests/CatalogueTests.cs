using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using LossDsl.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>Every diagnostic is released, documented and snapshot-tested: the three stay in step with the code.</summary>
public class CatalogueTests
{
    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (DiagnosticDescriptor descriptor in DiagnosticDescriptors.All)
        {
            data.Add(descriptor.Id);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheDiagnosticIsInTheReleaseFileWithItsSeverityAndTitle(string id)
    {
        DiagnosticDescriptor descriptor = DiagnosticDescriptors.ById(id);
        string[] rows = File.ReadAllLines(Path.Combine(RepoRoot(), "generators", "LossDsl.Generators", "AnalyzerReleases.Unshipped.md"));

        Assert.Contains($"{id} | LossDsl | {descriptor.DefaultSeverity} | {descriptor.Title}", rows);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheDiagnosticHasADocsSectionWithATriggerAnExampleAndAFix(string id)
    {
        string docs = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "diagnostics.md"));
        DiagnosticDescriptor descriptor = DiagnosticDescriptors.ById(id);

        int start = docs.IndexOf($"\n## {id}: {descriptor.Title}\n", System.StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/diagnostics.md has no section '## {id}: {descriptor.Title}'");
        int end = docs.IndexOf("\n## ", start + 1, System.StringComparison.Ordinal);
        string section = end < 0 ? docs[start..] : docs[start..end];
        Assert.Contains("What triggers it", section);
        Assert.Contains("Example", section);
        Assert.Contains("Fix", section);
        Assert.Contains($"{id}:", section); // the example shows the diagnostic as the compiler prints it
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheDiagnosticHasASnapshot(string id)
    {
        string snapshot = Path.Combine(RepoRoot(), "tests", "LossDsl.Generators.Tests", "Snapshots", $"DiagnosticSnapshots.Diagnostic_{id}.verified.txt");

        Assert.True(File.Exists(snapshot), $"no snapshot test for {id}");
        Assert.Contains($"{id} (", File.ReadAllText(snapshot));
    }

    [Fact]
    public void TheReleaseFileListsNoRuleTheCodeLacks()
    {
        string[] rows = File.ReadAllLines(Path.Combine(RepoRoot(), "generators", "LossDsl.Generators", "AnalyzerReleases.Unshipped.md"));
        var ids = rows.Where(r => r.StartsWith("LD", System.StringComparison.Ordinal)).Select(r => r.Split(' ')[0]);

        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id).OrderBy(i => i), ids.OrderBy(i => i));
    }

    private static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
