using System;
using System.IO;

namespace LossDsl.Testing;

/// <summary>
/// The text of DistillationLoss.cs, for the projects that give the README's loss to the generator
/// as source instead of compiling it (the generator tests and the generator benchmarks). They
/// embed the file with the logical name below, so the text comes from their own assembly and
/// not from a path that depends on where the tests run.
/// </summary>
internal static class DistillationLossSource
{
    private const string ResourceName = "LossDsl.Testing.DistillationLoss.cs";
    private const string Usings = "using LossDsl;\nusing TorchSharp;\nusing static TorchSharp.torch;\n";
    private const string Namespace = "namespace LossDsl.Testing;";

    private static readonly Lazy<string> s_text = new(Read);

    /// <summary>The file as written, with <c>\n</c> line endings whatever the checkout uses.</summary>
    public static string Text => s_text.Value;

    /// <summary>
    /// The same class declared in namespace <paramref name="name"/>; without the file's using
    /// directives when the caller prepends its own (duplicates would be warnings).
    /// </summary>
    public static string InNamespace(string name, bool withUsings = true)
    {
        string text = ReplaceOnce(Text, Namespace, $"namespace {name};");
        return withUsings ? text : ReplaceOnce(text, Usings, "").TrimStart('\n');
    }

    private static string ReplaceOnce(string text, string part, string replacement)
    {
        int at = text.IndexOf(part, StringComparison.Ordinal);
        if (at < 0 || text.IndexOf(part, at + part.Length, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException($"DistillationLoss.cs no longer holds '{part.TrimEnd()}' exactly once; update {nameof(DistillationLossSource)}.");
        }
        return string.Concat(text.AsSpan(0, at), replacement, text.AsSpan(at + part.Length));
    }

    private static string Read()
    {
        using Stream stream = typeof(DistillationLossSource).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded: the project must embed tests/Shared/DistillationLoss.cs under that LogicalName.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }
}
