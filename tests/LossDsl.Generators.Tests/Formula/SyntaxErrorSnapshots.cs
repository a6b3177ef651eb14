using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// One snapshot per syntax error message that says how to fix a common mistake, through the
/// real driver: the complete list of the generator's diagnostics is one LD0101 at the
/// characters to fix, and nothing is generated.
/// </summary>
public class SyntaxErrorSnapshots
{
    /// <summary>Name, the attribute's argument as written in C#, the message after "Formula syntax error: ", and the underlined source text.</summary>
    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "PowerOperator", Raw("Total = Hard + Soft ** 2"), "'**' is not an operator: write a power with '^', as in 'x ^ 2', or with Pow(x, 2)", "**" },
        { "CaretWithoutExponent", Raw("Total = Hard + Soft^"), "expected a number, a name or '(' after '^'", "^" },
        { "FloatSuffix", Raw("Total = Hard + 0.5f * Soft"), "numbers take no suffix: write 0.5", "0.5f" },
        { "SuffixAfterExponent", Raw("Total = Hard + Balance(Soft, to: Hard, eps: 1e-3f)"), "numbers take no suffix: write 1e-3", "1e-3f" },
        { "LongSuffix", Raw("Total = Dwa(Hard, Soft, window: 10L)"), "numbers take no suffix: write 10", "10L" },
        { "ExponentWithoutDigits", Raw("Total = Hard + 2e * Soft"), "'2e' is not a number: an exponent needs digits, as in 2e-3", "2e" },
        { "NumberGluedToAName", Raw("Total = Hard + 2Soft"), "'2Soft' is not a number or a name: a name cannot start with a digit; to multiply, write '2 * Soft'", "2Soft" },
        { "DigitSeparator", Raw("Total = Hard + Soft / 1_000"), "numbers take no '_' separators: write 1000", "1_000" },
        { "HexadecimalNumber", Raw("Total = Hard + Soft / 0x10"), "'0x10' is not a number: numbers are written in decimal, such as 0.5 or 1e-3", "0x10" },
        { "HashComment", Raw("Total = Hard + Soft  # the soft part ** 2 (not squared"), "'#' does not start a comment: use '//'", "#" },
        { "HashCommentLine", Raw("# hard and soft\nTotal = Hard + Soft"), "'#' does not start a comment: use '//'", "#" },
        { "UnicodeMinus", Raw("Total = Hard − Soft"), "'−' (U+2212) is not the minus sign '-'; type '-'", "−" },
        { "EnDash", Raw("Total = Hard – Soft"), "'–' (U+2013) is not the minus sign '-'; type '-'", "–" },
        { "EmDash", Raw("Total = Hard — Soft"), "'—' (U+2014) is not the minus sign '-'; type '-'", "—" },
        { "MultiplicationSign", Raw("Total = Hard + Alpha × Soft"), "'×' (U+00D7) is not the multiplication sign '*'; type '*'", "×" },
        { "DivisionSign", Raw("Total = Hard + Soft ÷ 2"), "'÷' (U+00F7) is not the division sign '/'; type '/'", "÷" },
        { "FullwidthParenthesis", Raw("Total = Hard + Detach（Soft)"), "'（' (U+FF08) is not '('; type '('", "（" },
        { "DoubleEquals", Raw("Total == Hard + Soft"), "'==' is not an operator: a binding is written 'Name = expression'", "==" },
        { "ContinuationLine", Raw("Total = Hard\n      + Alpha * Soft"), "a line cannot start with '+': to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)", "+" },
        { "ContinuationLineWithMinus", Raw("Total = Hard\n      - Alpha * Soft\n      - Soft"), "a line cannot start with '-': to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)", "-" },
        { "OperatorAtTheEndOfALine", Raw("Total = Hard +\n        Alpha * Soft"), "expected a number, a name or '(' after '+' on the same line: to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)", "+" },
        { "UnclosedCallOverLines", Raw("Kd = Balance(Soft,\n             to: Hard\nTotal = Hard + Kd"), "the call to 'Balance' is not closed: expected ')' or ','", "(" },
        { "UnclosedParenthesisOverLines", Raw("Kd = (Soft\n      + Alpha\nTotal = Hard + Kd"), "'(' is not closed: expected ')'", "(" },
        { "NonAsciiLetter", Raw("Total = Hard + Söft"), "expected a name made of ASCII letters, digits and '_', but found the character 'ö'", "ö" },
        { "InvisibleCharacter", "\"Total = Hard\\u200B + Soft\"", "the invisible character U+200B is not part of the language; delete it", "\\u200B" },
        { "TrailingComma", Raw("Total = Hard + Balance(Soft, to: Hard,)"), "expected an argument after ',': remove the trailing ','", "," },
        { "NamedArgumentWithEquals", Raw("Total = Hard + Balance(Soft, to=Hard)"), "a named argument is written 'to: value', with ':' instead of '='", "=" },
        { "ExpressionWithoutBinding", Raw("Hard + Soft"), "expected '=' after 'Hard', but found '+': every line is a binding 'Name = expression', such as 'Total = Hard + Soft'", "+" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SyntaxError(string name, string argument, string message, string underlined)
    {
        GeneratorRun run = GeneratorHarness.Run(Declaration(argument));

        Snapshot.Verify(run, name, SnapshotsBesideTheOtherGeneratorTests());
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0101", error.Id);
        Assert.Equal("Formula syntax error: " + message, error.GetMessage());
        Assert.Equal(underlined, run.Underlined(error));
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning); // the stub keeps the error alone
    }

    [Fact]
    public void AnUnclosedParenthesisLeavesTheErrorsOfLaterLinesReported()
    {
        GeneratorRun run = GeneratorHarness.Run(Declaration(Raw("""
            Kd = Balance(Soft,
                         to: Hard
            Scaled = Alpha ** 2 * Kd
            Total = Hard + Scaled
            """)));

        Snapshot.Verify(run, testFile: SnapshotsBesideTheOtherGeneratorTests());
        Assert.Equal(
            new[]
            {
                ("Formula syntax error: the call to 'Balance' is not closed: expected ')' or ','", "("),
                ("Formula syntax error: '**' is not an operator: write a power with '^', as in 'x ^ 2', or with Pow(x, 2)", "**"),
            },
            run.GeneratorDiagnostics.Select(d => (d.GetMessage(), run.Underlined(d))));
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal("LD0101", d.Id));
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning);
    }

    private static string Raw(string formula) => Sources.Literal(formula);

    private static string Declaration(string argument) => $$"""
        public partial class Formula
        {
            public double Alpha { get; set; } = 0.5;
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();

            [Loss({{argument}})]
            public partial Tensor Compute(Tensor x);
        }
        """;

    /// <summary>
    /// The snapshot helper keeps snapshots in a Snapshots folder beside the test file; these are
    /// kept with every other generator snapshot, so it is told this file sits one folder up.
    /// </summary>
    private static string SnapshotsBesideTheOtherGeneratorTests([CallerFilePath] string thisFile = "")
        => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(thisFile))!, Path.GetFileName(thisFile));
}
