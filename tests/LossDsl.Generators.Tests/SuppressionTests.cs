using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// LossDsl's diagnostics carry real source locations, so the compiler's own suppression works on
/// them: <c>#pragma warning disable</c> around a declaration, and per-file severities.
/// </summary>
public class SuppressionTests
{
    private const string UnusedParameter = """
        namespace Sample;

        public partial class Quiet
        {
            [Term] Tensor Hard(Tensor x) => x.mean();

            [Loss("Total = Hard")]
        #pragma warning disable LD0204 // the second input is for a later formula
            public partial Tensor Compute(Tensor x, Tensor later);
        #pragma warning restore LD0204
        }
        """;

    [Fact]
    public void APragmaSilencesAWarningAtItsDeclaration()
    {
        GeneratorRun run = GeneratorHarness.Run(UnusedParameter);

        // The driver reports it as the compiler does: suppressed, and not counted as a warning.
        Assert.DoesNotContain(Effective(run), d => d.Id == "LD0204");
        Assert.Empty(run.Errors);
    }

    [Fact]
    public void WithoutThePragmaTheWarningStands()
    {
        GeneratorRun run = GeneratorHarness.Run(UnusedParameter.Replace("#pragma warning disable LD0204", "").Replace("#pragma warning restore LD0204", ""));

        Assert.Contains(Effective(run), d => d.Id == "LD0204" && d.Severity == DiagnosticSeverity.Warning);
    }

    [Fact]
    public void APerFileSeverityMakesTheWarningAnError()
    {
        CSharpCompilation input = GeneratorHarness.Compilation(GeneratorHarness.Usings + UnusedParameter.Replace("#pragma warning disable LD0204", "").Replace("#pragma warning restore LD0204", ""));
        // What an .editorconfig section for this file does: a severity per ID and syntax tree.
        SyntaxTree tree = input.SyntaxTrees.Single();
        var options = new TreeOptions(tree, "LD0204", ReportDiagnostic.Error);
        input = input.WithOptions(input.Options.WithSyntaxTreeOptionsProvider(options));
        var (run, _) = GeneratorHarness.Run(input, GeneratorHarness.Driver());

        Assert.Contains(Effective(run), d => d.Id == "LD0204" && d.Severity == DiagnosticSeverity.Error);
    }

    /// <summary>The generator's diagnostics as a build reports them: the driver filters them through the compilation's options.</summary>
    private static IEnumerable<Diagnostic> Effective(GeneratorRun run) => run.GeneratorDiagnostics.Where(d => !d.IsSuppressed);

    private sealed class TreeOptions(SyntaxTree tree, string id, ReportDiagnostic severity) : SyntaxTreeOptionsProvider
    {
        public override GeneratedKind IsGenerated(SyntaxTree syntaxTree, System.Threading.CancellationToken cancellationToken) => GeneratedKind.NotGenerated;

        public override bool TryGetDiagnosticValue(SyntaxTree syntaxTree, string diagnosticId, System.Threading.CancellationToken cancellationToken, out ReportDiagnostic value)
        {
            value = severity;
            return syntaxTree == tree && diagnosticId == id;
        }

        public override bool TryGetGlobalDiagnosticValue(string diagnosticId, System.Threading.CancellationToken cancellationToken, out ReportDiagnostic value)
        {
            value = ReportDiagnostic.Default;
            return false;
        }
    }
}
