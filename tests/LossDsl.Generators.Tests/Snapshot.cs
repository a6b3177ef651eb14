using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Snapshot assertions following Verify's conventions, which cannot be restored here (its core
/// package is not served): <c>Snapshots/{Class}.{Test}#{file}.verified.cs</c> per generated file and
/// <c>Snapshots/{Class}.{Test}.verified.txt</c> listing diagnostics are committed; on a mismatch
/// the actual text is written as <c>.received.*</c> (never committed) and the test fails with a
/// unified diff. Set LOSSDSL_ACCEPT_SNAPSHOTS=1 to accept received text locally; CI never accepts.
/// </summary>
public static class Snapshot
{
    private const string AcceptVariable = "LOSSDSL_ACCEPT_SNAPSHOTS";

    /// <summary>Snapshots every generated file and the diagnostics of <paramref name="run"/>.</summary>
    public static void Verify(GeneratorRun run, string? variant = null, [CallerFilePath] string testFile = "", [CallerMemberName] string test = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots");
        string name = $"{Path.GetFileNameWithoutExtension(testFile)}.{test}{(variant is null ? "" : "_" + variant)}";

        var failures = new List<string>();
        foreach (var (hint, source) in run.Sources.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            string file = Path.Combine(folder, $"{name}#{hint[..^".cs".Length]}");
            Check(file, ".cs", Scrub(source), failures);
        }
        Check(Path.Combine(folder, name), ".txt", Describe(run), failures);

        // A snapshot of a file the generator no longer writes is stale.
        var expected = run.Sources.Keys.Select(h => $"{name}#{h[..^".cs".Length]}.verified.cs").Append($"{name}.verified.txt").ToHashSet();
        foreach (string stale in Directory.EnumerateFiles(folder, $"{name}#*.verified.cs").Select(f => Path.GetFileName(f)).Where(f => !expected.Contains(f)))
        {
            failures.Add($"{stale} is a snapshot of a file that is no longer generated: delete it.");
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>The diagnostics of a run as text: id, severity, message, and the source line with the span underlined.</summary>
    public static string Describe(GeneratorRun run)
    {
        var diagnostics = run.GeneratorDiagnostics
            .Concat(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning))
            .OrderBy(d => d.Location.GetLineSpan().Path, StringComparer.Ordinal)
            .ThenBy(d => d.Location.SourceSpan.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToList();
        if (diagnostics.Count == 0)
        {
            return "(no diagnostics)\n";
        }
        var text = new StringBuilder();
        foreach (Diagnostic diagnostic in diagnostics)
        {
            FileLinePositionSpan where = diagnostic.Location.GetLineSpan();
            text.Append($"{diagnostic.Id} ({diagnostic.Severity}) {where.Path}({where.StartLinePosition.Line + 1},{where.StartLinePosition.Character + 1}): {diagnostic.GetMessage()}\n");
            var tree = run.Input.SyntaxTrees.Concat(run.Output.SyntaxTrees).FirstOrDefault(t => t.FilePath == where.Path);
            if (tree is not null)
            {
                var source = tree.GetText();
                var line = source.Lines[where.StartLinePosition.Line];
                int start = where.StartLinePosition.Character;
                int end = where.EndLinePosition.Line == where.StartLinePosition.Line ? where.EndLinePosition.Character : line.End - line.Start;
                text.Append("    ").Append(line.ToString()).Append('\n');
                text.Append("    ").Append(' ', start).Append('^', Math.Max(1, end - start)).Append('\n');
            }
        }
        return text.ToString();
    }

    private static void Check(string path, string extension, string actual, List<string> failures)
    {
        string verified = path + ".verified" + extension, received = path + ".received" + extension;
        actual = actual.ReplaceLineEndings("\n");
        string? expected = File.Exists(verified) ? File.ReadAllText(verified).ReplaceLineEndings("\n") : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1" && Environment.GetEnvironmentVariable("CI") != "true")
        {
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        failures.Add(expected is null
            ? $"No snapshot {Path.GetFileName(verified)} yet; the generator's output is in {Path.GetFileName(received)}. Review it and rename it, or run with {AcceptVariable}=1."
            : $"{Path.GetFileName(verified)} differs from the generator's output (written to {Path.GetFileName(received)}):\n{UnifiedDiff(expected, actual)}");
    }

    /// <summary>Removes what changes between versions of the generator, not between its outputs.</summary>
    private static string Scrub(string source)
        => Regex.Replace(source, "GeneratedCode\\(\"LossDsl\", \"[^\"]+\"\\)", "GeneratedCode(\"LossDsl\", \"{version}\")");

    private static string UnifiedDiff(string expected, string actual)
    {
        var lines = InlineDiffBuilder.Diff(expected, actual, ignoreWhiteSpace: false).Lines;
        var shown = new StringBuilder();
        for (int i = 0; i < lines.Count; i++)
        {
            // Changed lines with three lines of context.
            bool near = lines.Skip(Math.Max(0, i - 3)).Take(7).Any(l => l.Type != ChangeType.Unchanged);
            if (!near)
            {
                continue;
            }
            string marker = lines[i].Type switch { ChangeType.Inserted => "+ ", ChangeType.Deleted => "- ", _ => "  " };
            shown.Append(marker).Append(lines[i].Text).Append('\n');
        }
        return shown.ToString();
    }
}
