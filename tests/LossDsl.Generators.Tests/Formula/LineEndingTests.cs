using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// A raw multi-line formula keeps the line breaks of its file, whatever they are: the formula is
/// split into bindings at each of them, and its errors are located at their characters.
/// </summary>
public class LineEndingTests
{
    private const string Formula = """"
        [Loss("""
                Kd    = Soft + Balance(Feature, to: Soft)
                Total = (Hard
                         + Alpha * Kd)
                """)]
        """";

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")] // classic Mac line endings: the formula was once read as a single broken line
    public void AFormulaInAFileWithAnyLineEndingsGeneratesCode(string lineEnding)
    {
        GeneratorRun run = GeneratorHarness.Run(Declaration(Formula).ReplaceLineEndings(lineEnding));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.Errors);
        Assert.Single(run.Sources);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void AnErrorInAFileWithAnyLineEndingsIsLocatedAtItsCharacter(string lineEnding)
    {
        string broken = Formula.Replace("Alpha * Kd", "Alpha ** Kd");

        GeneratorRun run = GeneratorHarness.Run(Declaration(broken).ReplaceLineEndings(lineEnding));

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0101", error.Id);
        Assert.Equal("**", run.Underlined(error));
        // Line and column as the compiler counts them, which is the same for every kind of line break.
        string[] lines = (GeneratorHarness.Usings + Declaration(broken)).ReplaceLineEndings("\n").Split('\n');
        int line = System.Array.FindIndex(lines, l => l.Contains("**"));
        Assert.Equal(new Microsoft.CodeAnalysis.Text.LinePosition(line, lines[line].IndexOf("**", System.StringComparison.Ordinal)), error.Location.GetLineSpan().StartLinePosition);
    }

    private static string Declaration(string attribute) => $$"""
        namespace Sample;

        public partial class LineEndings
        {
            public double Alpha { get; set; } = 0.5;

            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
            [Term] Tensor Feature(Tensor y) => y.pow(2).mean();

        {{attribute}}
            public partial Tensor Compute(Tensor x, Tensor y);
        }
        """;
}
