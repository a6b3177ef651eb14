using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Formula errors are reported at their exact characters inside the string literal, whatever
/// form the literal takes, and a formula with errors generates nothing.
/// </summary>
public class FormulaDiagnosticsTests
{
    [Fact]
    public void ASyntaxErrorInARawMultiLineStringPointsAtTheOffendingCharacter()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms(""""
            """
                    Kd = Soft + * Feature
                    Total = Hard + Kd
                    """
            """"));

        Diagnostic error = Single(run, "LD0101");
        Assert.Equal("Formula syntax error: expected a number, a name or '(', but found '*'", error.GetMessage());
        AssertAt(run, error, context: "Soft + * Feature", offset: 7, length: 1);
    }

    [Fact]
    public void AnUnknownNameInAVerbatimStringIsUnderlinedAndGetsASuggestion()
    {
        // The doubled quotes in the comment shift every later position by one each.
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("""
            @"Kd = Soft + Feature // a ""quoted"" note
                Total = Hard + Sfot"
            """));

        Diagnostic error = Single(run, "LD0103");
        Assert.Equal("'Sfot' is not a binding, [Term] method, parameter or numeric member of 'ThreeTerms'; did you mean 'Soft'?", error.GetMessage());
        AssertAt(run, error, context: "Hard + Sfot", offset: 7, length: 4);
    }

    [Fact]
    public void PositionsInARegularStringAccountForEscapeSequences()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("""
            "Kd = Soft + Feature // \"escaped\"\n\tTotal = Hard \u002B Kdd"
            """));

        Diagnostic error = Single(run, "LD0103");
        Assert.Contains("did you mean 'Kd'?", error.GetMessage());
        AssertAt(run, error, context: "\\u002B Kdd", offset: 7, length: 3);
    }

    [Fact]
    public void AnEscapedCharacterIsUnderlinedAsItsWholeEscapeSequence()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("""
            "Total = Hard \u0024 Soft"
            """));

        Diagnostic error = Single(run, "LD0101");
        Assert.Contains("found the character '$'", error.GetMessage());
        AssertAt(run, error, context: "\\u0024", offset: 0, length: 6);
    }

    [Fact]
    public void ALoneSurrogateEscapeIsReportedNotThrownOn()
    {
        // Found by the fuzz test: \uD83D decoded through char.ConvertFromUtf32 threw inside the generator.
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("""
            "Total = Hard \uD83D"
            """));

        Diagnostic error = Single(run, "LD0101");
        AssertAt(run, error, context: "\\uD83D", offset: 0, length: 6);
    }

    [Fact]
    public void ARawSingleLineStringMapsDirectly()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"\"\"Total = Hard + (Soft\"\"\""));

        Diagnostic error = Single(run, "LD0101");
        Assert.Equal("Formula syntax error: '(' is not closed: expected ')'", error.GetMessage());
        AssertAt(run, error, context: "+ (Soft", offset: 2, length: 1);
    }

    [Fact]
    public void AnOperatorWithoutOperandIsUnderlinedItself()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Kd = Soft +\\nTotal = Hard + Kd\""));

        Diagnostic error = Single(run, "LD0101");
        Assert.Equal("Formula syntax error: expected a number, a name or '(' after '+'", error.GetMessage());
        AssertAt(run, error, context: "Soft +", offset: 5, length: 1);
    }

    [Fact]
    public void NonAsciiCharactersAreReportedWhereTheyStand()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Total = Hard + Söft\""));

        Diagnostic error = Single(run, "LD0101");
        Assert.Contains("found the character 'ö'", error.GetMessage());
        AssertAt(run, error, context: "Söft", offset: 1, length: 1);
    }

    [Fact]
    public void EveryBrokenLineIsReportedOnce()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"A = Soft +\\nB = = Hard\\nTotal = Hard\""));

        Assert.Equal(2, run.GeneratorDiagnostics.Count(d => d.Id == "LD0101"));
    }

    [Fact]
    public void AFormulaWithErrorsGetsAStubThatThrowsSoItsErrorIsTheOnlyOne()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Total = Hard + Nope\""));

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0103", error.Id);
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Contains("=> throw new global::System.InvalidOperationException(\"LossDsl did not implement [Loss] method 'ThreeTerms.Compute' because of LD0103: 'Nope' is not a binding", run.Source);
    }

    [Fact]
    public void ATypeThatIsNotPartialIsReportedAtItsName()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public class NotPartial
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Diagnostic error = Single(run, "LD0001");
        Assert.Equal("Type 'NotPartial' must be declared partial because it contains the [Loss] method 'Compute'", error.GetMessage());
        Assert.Equal("NotPartial", run.Underlined(error));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void AContainingTypeThatIsNotPartialIsReportedToo()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public class Outer
            {
                public partial class Inner
                {
                    [Term] Tensor Hard(Tensor x) => x.mean();

                    [Loss("Total = Hard")]
                    public partial Tensor Compute(Tensor x);
                }
            }
            """);

        Assert.Equal("Outer", run.Underlined(Single(run, "LD0001")));
    }

    [Fact]
    public void ALossMethodThatIsNotPartialIsReportedAtItsName()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial class HasBody
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public Tensor Compute(Tensor x) => x;
            }
            """);

        Diagnostic error = Single(run, "LD0002");
        Assert.Equal("Compute", run.Underlined(error));
        Assert.Empty(run.Sources);
    }

    private static Diagnostic Single(GeneratorRun run, string id)
    {
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal(id, d.Id));
        return Assert.Single(run.GeneratorDiagnostics);
    }

    /// <summary>Asserts the diagnostic covers exactly <paramref name="length"/> characters from <paramref name="offset"/> into the unique <paramref name="context"/>.</summary>
    private static void AssertAt(GeneratorRun run, Diagnostic diagnostic, string context, int offset, int length)
    {
        string text = run.TextOf(diagnostic).ToString();
        int at = text.IndexOf(context, System.StringComparison.Ordinal);
        Assert.True(at >= 0 && text.IndexOf(context, at + 1, System.StringComparison.Ordinal) < 0, $"'{context}' must occur once in the source");
        Assert.Equal(new Microsoft.CodeAnalysis.Text.TextSpan(at + offset, length), diagnostic.Location.SourceSpan);
        Assert.Equal(run.Input.SyntaxTrees.First().FilePath, diagnostic.Location.GetLineSpan().Path);
    }

    [Fact]
    public void AVeryLongChainIsAnErrorNotAStackOverflow()
    {
        string chain = string.Join(" + ", Enumerable.Repeat("Hard", 5000));
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms($"\"Total = {chain}\""));

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "LD0101");
        Assert.Contains("more than 256 operations", error.GetMessage());
    }

    [Fact]
    public void AnAliasedLossAttributeIsLocatedInsideItsString()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace Sample;

            using L = LossDsl.LossAttribute;

            public partial class Aliased
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [L("Total = Hard + Sfot")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0103", error.Id);
        Assert.Equal("Sfot", run.Underlined(error));
    }
}
