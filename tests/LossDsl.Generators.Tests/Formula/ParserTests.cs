using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LossDsl.Generators.Formula;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// The parser on its own: the trees it builds (printed as s-expressions), the spans it records,
/// its limits, and how it recovers from errors: one error per broken binding, at the characters
/// to fix, and every binding after it still parsed.
/// </summary>
public class ParserTests
{
    [Theory]
    [InlineData("T = a + b * c", "(+ a (* b c))")]
    [InlineData("T = a * b + c", "(+ (* a b) c)")]
    [InlineData("T = a - b - c", "(- (- a b) c)")]
    [InlineData("T = a / b / c", "(/ (/ a b) c)")]
    [InlineData("T = a / b * c", "(* (/ a b) c)")]
    [InlineData("T = (a + b) * c", "(* (+ a b) c)")]
    [InlineData("T = a - (b - c)", "(- a (- b c))")]
    [InlineData("T = -a * b", "(* (neg a) b)")]
    [InlineData("T = a * -b", "(* a (neg b))")]
    [InlineData("T = a - -b", "(- a (neg b))")]
    [InlineData("T = --a", "(neg (neg a))")]
    [InlineData("T = -(a + b)", "(neg (+ a b))")]
    [InlineData("T = ((a))", "a")]
    [InlineData("T = 2 * 0.5 + 1e-3", "(+ (* 2 0.5) 0.001)")]
    public void OperatorsHaveTheUsualPrecedenceAndAssociateToTheLeft(string formula, string tree)
    {
        Assert.Equal(tree, Print(ParseValid(formula).Single().Value));
    }

    [Theory]
    [InlineData("T = a ^ 2", "(^ a 2)")]
    [InlineData("T = -x^2", "(neg (^ x 2))")]
    [InlineData("T = a ^ b ^ c", "(^ a (^ b c))")]
    [InlineData("T = 2 * x ^ 2", "(* 2 (^ x 2))")]
    [InlineData("T = x ^ 2 / y", "(/ (^ x 2) y)")]
    [InlineData("T = a + b ^ c * d", "(+ a (* (^ b c) d))")]
    [InlineData("T = x ^ -1", "(^ x (neg 1))")]
    [InlineData("T = x ^ -y ^ 2", "(^ x (neg (^ y 2)))")]
    [InlineData("T = (-x) ^ 2", "(^ (neg x) 2)")]
    [InlineData("T = (a ^ b) ^ c", "(^ (^ a b) c)")]
    [InlineData("T = Sqrt(x) ^ Pow(y, 2)", "(^ (call Sqrt x) (call Pow y 2))")]
    public void PowerBindsTighterThanUnaryMinusAndAssociatesToTheRight(string formula, string tree)
    {
        Assert.Equal(tree, Print(ParseValid(formula).Single().Value));
    }

    [Theory]
    [InlineData("T = Detach(a)", "(call Detach a)")]
    [InlineData("T = Uncertainty()", "(call Uncertainty)")]
    [InlineData("T = Balance(a, to: b)", "(call Balance a to:b)")]
    [InlineData("T = Balance(a * 2, to: b + c, eps: 1e-8, max: -1)", "(call Balance (* a 2) to:(+ b c) eps:1E-08 max:(neg 1))")]
    [InlineData("T = Dwa(a, b, c, temperature: 2)", "(call Dwa a b c temperature:2)")]
    [InlineData("T = Balance(Detach(a), to: Balance(b, to: c))", "(call Balance (call Detach a) to:(call Balance b to:c))")]
    [InlineData("T = a * Detach(b) + c", "(+ (* a (call Detach b)) c)")]
    public void CallsTakePositionalThenNamedArguments(string formula, string tree)
    {
        Assert.Equal(tree, Print(ParseValid(formula).Single().Value));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    [InlineData("\u2028")]
    public void ALineBreakInsideParenthesesIsLayout(string lineBreak)
    {
        string formula = string.Join(lineBreak, "Kd = Balance(", "    Soft,", "    to: Hard)", "Total = (Hard", "  + Kd)");

        var bindings = ParseValid(formula);

        Assert.Equal(new[] { "(call Balance Soft to:Hard)", "(+ Hard Kd)" }, bindings.Select(b => Print(b.Value)));
    }

    [Theory]
    [InlineData("A = 1\nB = 2\nC = 3")]
    [InlineData("A = 1\r\nB = 2\r\nC = 3")]
    [InlineData("A = 1\rB = 2\rC = 3")]
    [InlineData("A = 1; B = 2; C = 3")]
    [InlineData("\n\nA = 1 // one\n\n// nothing\nB = 2;;\n C = 3;\n")]
    [InlineData("A = 1\u2029B = 2\u0085C = 3")]
    public void BindingsAreSeparatedByLineBreaksAndSemicolons(string formula)
    {
        Assert.Equal(new[] { "A", "B", "C" }, ParseValid(formula).Select(b => b.Name));
    }

    [Fact]
    public void ASemicolonEndsABindingEvenInsideParentheses()
    {
        var (_, errors) = FormulaParser.Parse("A = (1; B = 2");

        FormulaError error = Assert.Single(errors);
        Assert.Equal("'(' is not closed: expected ')'", error.Message);
        Assert.Equal(new FormulaSpan(4, 1), error.Span);
    }

    [Fact]
    public void BindingsRecordTheSpansOfTheirParts()
    {
        const string formula = "Kd = Balance(Soft, to: Hard)\n  Total = -Hard + Kd // the loss";

        var bindings = ParseValid(formula);

        Assert.Equal("Kd", Text(formula, bindings[0].NameSpan));
        Assert.Equal("Kd = Balance(Soft, to: Hard)", Text(formula, bindings[0].Span));
        var call = Assert.IsType<CallSyntax>(bindings[0].Value);
        Assert.Equal("Balance", Text(formula, call.NameSpan));
        Assert.Equal("Balance(Soft, to: Hard)", Text(formula, call.Span));
        Assert.Equal("to", Text(formula, call.Arguments[1].NameSpan));
        Assert.Equal("Hard", Text(formula, call.Arguments[1].Value.Span));
        Assert.Equal(default, call.Arguments[0].NameSpan);
        Assert.Equal("Total = -Hard + Kd", Text(formula, bindings[1].Span));
        Assert.Equal("-Hard", Text(formula, ((BinarySyntax)bindings[1].Value).Left.Span));
    }

    [Theory]
    [InlineData("")]
    [InlineData("// only a comment")]
    [InlineData("\n;\r\n ;")]
    public void AFormulaWithoutBindingsHasNoErrors(string formula)
    {
        var (parsed, errors) = FormulaParser.Parse(formula);

        Assert.Empty(parsed.Bindings);
        Assert.Empty(errors);
    }

    [Fact]
    public void NestingUpToTheLimitParses()
    {
        string formula = $"T = {new string('(', 63)}a{new string(')', 63)}";

        Assert.Equal("a", Print(ParseValid(formula).Single().Value));
    }

    [Theory]
    [InlineData("(", 64)]
    [InlineData("-", 64)]
    [InlineData("Detach(", 64)]
    public void NestingBeyondTheLimitIsOneError(string opener, int count)
    {
        string closer = opener == "-" ? "" : new string(')', count + 10);
        string formula = $"T = {string.Concat(Enumerable.Repeat(opener, count + 10))}a{closer}\nNext = 1";

        var (parsed, errors) = FormulaParser.Parse(formula);

        Assert.Equal("the expression is nested more than 64 levels deep", Assert.Single(errors).Message);
        Assert.Equal("Next", Assert.Single(parsed.Bindings).Name);
    }

    [Fact]
    public void MoreThan256OperationsInABindingIsOneError()
    {
        var (parsed, errors) = FormulaParser.Parse($"T = {string.Join(" + ", Enumerable.Repeat("a", 300))}\nNext = 1");

        Assert.Equal("the binding has more than 256 operations; split it into several bindings", Assert.Single(errors).Message);
        Assert.Equal("Next", Assert.Single(parsed.Bindings).Name);
        Assert.Empty(FormulaParser.Parse($"T = {string.Join(" + ", Enumerable.Repeat("a", 257))}").Errors);
    }

    [Fact]
    public void EveryBrokenLineIsReportedOnceAndTheOthersAreParsed()
    {
        const string formula = """
            A = Soft + * Hard
            B = Hard
            C = = Soft
            D Soft
            F = Balance(Soft, to: Hard) )
            E = (Hard + Soft
            G = Soft ** 2
            Total = A + B
            """;

        var (parsed, errors) = FormulaParser.Parse(formula.ReplaceLineEndings("\n"));

        Assert.Equal(new[] { "B", "Total" }, parsed.Bindings.Select(b => b.Name));
        Assert.Equal(
            new[]
            {
                ("*", "expected a number, a name or '(', but found '*'"),
                ("=", "expected a number, a name or '(', but found '='"),
                ("Soft", "expected '=' after 'D', but found 'Soft'"),
                (")", "')' has no matching '('"),
                ("(", "'(' is not closed: expected ')'"),
                ("**", "'**' is not an operator: write a power with '^', as in 'x ^ 2', or with Pow(x, 2)"),
            },
            errors.Select(e => (Text(formula.ReplaceLineEndings("\n"), e.Span), e.Message)));
    }

    /// <summary>Each message, with the characters it underlines marked by « and ».</summary>
    public static TheoryData<string, string> Messages => new()
    {
        // Mistakes the lexer recognises.
        { "Total = Hard «**» 2", "'**' is not an operator: write a power with '^', as in 'x ^ 2', or with Pow(x, 2)" },
        { "Total = «^» Hard", "expected a number, a name or '(', but found '^'" },
        { "Total = Hard «^»", "expected a number, a name or '(' after '^'" },
        { "Total = Hard ^ «*» 2", "expected a number, a name or '(', but found '*'" },
        { "Total = Hard * «0.5f»", "numbers take no suffix: write 0.5" },
        { "Total = «2d» * Hard", "numbers take no suffix: write 2" },
        { "Total = Balance(Soft, to: Hard, eps: «1e-3f»)", "numbers take no suffix: write 1e-3" },
        { "Total = Dwa(Hard, Soft, window: «10L»)", "numbers take no suffix: write 10" },
        { "Total = «2e» * Hard", "'2e' is not a number: an exponent needs digits, as in 2e-3" },
        { "Total = «2Hard»", "'2Hard' is not a number or a name: a name cannot start with a digit; to multiply, write '2 * Hard'" },
        { "Total = Hard * «1e999»", "the number '1e999' is too large" },
        { "Total = Hard «#» the supervised part", "'#' does not start a comment: use '//'" },
        { "«#» weights\nTotal = Hard", "'#' does not start a comment: use '//'" },
        { "Total = Hard «−» Soft", "'−' (U+2212) is not the minus sign '-'; type '-'" },
        { "Total = Hard «–» Soft", "'–' (U+2013) is not the minus sign '-'; type '-'" },
        { "Total = «—»Hard", "'—' (U+2014) is not the minus sign '-'; type '-'" },
        { "Total = Hard «×» Soft", "'×' (U+00D7) is not the multiplication sign '*'; type '*'" },
        { "Total = Hard «÷» 2", "'÷' (U+00F7) is not the division sign '/'; type '/'" },
        { "Total «==» Hard", "'==' is not an operator: a binding is written 'Name = expression'" },
        { "Total = Hard «==» Soft", "'==' is not an operator: a binding is written 'Name = expression'" },
        { "Total = Hard + S«ö»ft", "expected a name made of ASCII letters, digits and '_', but found the character 'ö'" },
        { "Total = Hard«\u200B» + Soft", "the invisible character U+200B is not part of the language; delete it" },

        // Lines that continue the previous one.
        { "Total = Hard\n      «+» Soft", "a line cannot start with '+': to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)" },
        { "Total = Hard\n      «-» Soft", "a line cannot start with '-': to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)" },
        { "Total = Hard\n      «*» Alpha", "a line cannot start with '*': to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)" },
        { "Total = Hard\r\n\r\n      «/» 2", "a line cannot start with '/': to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)" },
        { "Total = Hard «+»\n        Soft", "expected a number, a name or '(' after '+' on the same line: to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)" },
        { "Total «=»\n    Hard + Soft", "expected a number, a name or '(' after '=' on the same line: to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)" },
        { "Kd = Soft «+»\nTotal = Hard + Kd", "expected a number, a name or '(' after '+'" },
        { "Total = Hard «+»", "expected a number, a name or '(' after '+'" },

        // Parentheses.
        { "Total = Hard + «(»Soft", "'(' is not closed: expected ')'" },
        { "Kd = Soft + «(»Hard\nTotal = Kd", "'(' is not closed: expected ')'" },
        { "Kd = Soft + «(»Hard +\nTotal = Kd", "'(' is not closed: expected ')'" },
        { "Kd = Balance«(»Soft,\n             to: Hard\nTotal = Kd", "the call to 'Balance' is not closed: expected ')' or ','" },
        { "Kd = Balance«(»Soft,\nTotal = Kd", "the call to 'Balance' is not closed: expected ')' or ','" },
        { "Kd = Balance«(»Soft, to:\nTotal = Kd", "the call to 'Balance' is not closed: expected ')' or ','" },
        { "Total = (Hard + Soft) * «(»Alpha\n", "'(' is not closed: expected ')'" },
        { "Total = (Hard «Soft»)", "'(' is not closed: expected ')', but found 'Soft'" },
        { "Total = Hard + Soft«)»", "')' has no matching '('" },
        { "Total = Balance(Soft «Hard»)", "the call to 'Balance' is not closed: expected ')' or ',', but found 'Hard'" },
        { "Total = Balance(Soft\n    «to»: Hard)", "the call to 'Balance' is not closed: expected ')' or ',', but found 'to'" },

        // Calls.
        { "Total = Balance(Soft, to: Hard«,»)", "expected an argument after ',': remove the trailing ','" },
        { "Total = Balance(Soft, to«=»Hard)", "a named argument is written 'to: value', with ':' instead of '='" },
        { "Total = Balance(Soft,\n    to«=»Hard)", "a named argument is written 'to: value', with ':' instead of '='" },
        { "Total = Balance(Soft,\n    to«=»Hard,\n    eps=1e-3)", "a named argument is written 'to: value', with ':' instead of '='" },
        { "Total = Balance(to: Hard, «Soft»)", "a positional argument cannot follow a named one" },
        { "Total = Balance(Soft, to: «)»", "expected a number, a name or '(', but found ')'" },
        { "Total = Balance(«,»)", "expected a number, a name or '(', but found ','" },

        // Bindings.
        { "Total «Hard» + Soft", "expected '=' after 'Total', but found 'Hard'" },
        { "Hard «+» Soft", "expected '=' after 'Hard', but found '+': every line is a binding 'Name = expression', such as 'Total = Hard + Soft'" },
        { "Total«:» Hard", "expected '=' after 'Total', but found ':': every line is a binding 'Name = expression', such as 'Total = Hard + Soft'" },
        { "Total«»", "expected '=' after 'Total', but found the end of the formula: every line is a binding 'Name = expression', such as 'Total = Hard + Soft'" },
        { "«+» Hard", "expected a binding such as 'Total = Hard + Soft', but found '+'" },
        { "«=» Hard", "expected a binding such as 'Total = Hard + Soft', but found '='" },
        { "«(»Total) = Hard", "expected a binding such as 'Total = Hard + Soft', but found '('" },
        { "Total = Hard «Soft»", "expected an operator or the end of the line, but found 'Soft'" },
        { "Total = Soft«.»mean", "expected an operator or the end of the line, but found the character '.'" },
        { "Total = Hard * «１»", "expected a number, a name or '(', but found the character '１'" },
        { "Total = Hard * «$»", "expected a number, a name or '(', but found the character '$'" },
        { "Total = Hard + «*» Soft", "expected a number, a name or '(', but found '*'" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void EachMistakeIsOneErrorAtItsCharacters(string marked, string message)
    {
        var (formula, span) = Unmark(marked);

        var (_, errors) = FormulaParser.Parse(formula);

        FormulaError error = Assert.Single(errors);
        Assert.Equal(message, error.Message);
        Assert.Equal(span, error.Span);
    }

    [Fact]
    public void AContinuationOverSeveralLinesIsOneError()
    {
        const string formula = "Kd = Soft\nTotal = Hard\n  + Alpha * Kd\n  - Soft\n  / 2\nOther = Hard";

        var (parsed, errors) = FormulaParser.Parse(formula);

        Assert.Equal(new FormulaSpan(formula.IndexOf('+'), 1), Assert.Single(errors).Span);
        Assert.Equal(new[] { "Kd", "Total", "Other" }, parsed.Bindings.Select(b => b.Name));
    }

    [Fact]
    public void ADanglingOperatorSwallowsItsContinuationLinesOnly()
    {
        const string formula = "Total = Hard +\n  Alpha *\n  Soft\nOther = Hard\nBroken = *";

        var (parsed, errors) = FormulaParser.Parse(formula);

        Assert.Equal(new[] { formula.IndexOf('+'), formula.LastIndexOf('*') }, errors.Select(e => e.Span.Start));
        Assert.Equal("Other", Assert.Single(parsed.Bindings).Name);
    }

    [Fact]
    public void AnUnclosedParenthesisDoesNotSwallowTheBindingsAfterIt()
    {
        const string formula = """
            Kd = Balance(Feature,
                         to: Soft
            Mid = (Hard + Kd
            Total = Hard + $ + Mid
            Last = Hard
            """;

        var (parsed, errors) = FormulaParser.Parse(formula);

        Assert.Equal(
            new[]
            {
                ("(", "the call to 'Balance' is not closed: expected ')' or ','"),
                ("(", "'(' is not closed: expected ')'"),
                ("$", "expected a number, a name or '(', but found the character '$'"),
            },
            errors.Select(e => (Text(formula, e.Span), e.Message)));
        Assert.Equal(new[] { formula.IndexOf('('), formula.IndexOf("(Hard", StringComparison.Ordinal) }, errors.Take(2).Select(e => e.Span.Start));
        Assert.Equal("Last", Assert.Single(parsed.Bindings).Name);
    }

    [Fact]
    public void AnErrorInsideAMultiLineCallSkipsTheWholeCall()
    {
        const string formula = "Kd = Balance(Feature * ,\n    to: Soft,\n    eps: 1e-3)\nTotal = Hard + Kd";

        var (parsed, errors) = FormulaParser.Parse(formula);

        Assert.Equal(",", Text(formula, Assert.Single(errors).Span));
        Assert.Equal("Total", Assert.Single(parsed.Bindings).Name);
    }

    [Fact]
    public void AHashCommentLineIsOneErrorAndTheLinesAroundItAreParsed()
    {
        const string formula = "Kd = Soft\n# Total = Hard ** 2 + (\nTotal = Hard + Kd";

        var (parsed, errors) = FormulaParser.Parse(formula);

        Assert.Equal(new FormulaSpan(formula.IndexOf('#'), 1), Assert.Single(errors).Span);
        Assert.Equal(new[] { "Kd", "Total" }, parsed.Bindings.Select(b => b.Name));
    }

    [Fact]
    public void AHashCommentInsideAMultiLineExpressionIsOneError()
    {
        const string formula = "Total = (Hard  # the supervised part\n         + Soft)\nOther = Hard";

        var (parsed, errors) = FormulaParser.Parse(formula);

        Assert.Equal("'#' does not start a comment: use '//'", Assert.Single(errors).Message);
        Assert.Equal("Other", Assert.Single(parsed.Bindings).Name);
    }

    [Fact]
    public void TheFirstMistakeOfALineIsTheOneReported()
    {
        var (_, errors) = FormulaParser.Parse("Total = Hard ** 2 − 0.5f");

        Assert.Equal(new FormulaSpan(13, 2), Assert.Single(errors).Span);
    }

    [Fact]
    public void AnyTextParsesWithoutThrowingAndItsErrorsAreInOrderInsideIt()
    {
        // Recovery always moves forward: each error lies after the previous one, so no mistake
        // is reported twice and no input makes the parser loop. A fixed seed keeps it reproducible.
        string[] pieces =
        {
            "A", "Total", "Hard", " = ", "=", "==", "+", "-", "*", "**", "/", "^", "(", ")", ",", ":", ";", "\n", "\r", "\r\n", "\u2028",
            " ", "Balance", "to", "to=", "0.5", "2e", "1f", "1e999", "#", "//", "−", "ö", "\u200B", "😀", "\uD83D", ".", "$",
        };
        var random = new Random(20261129);
        for (int n = 0; n < 20_000; n++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(0, 40)).Select(_ => pieces[random.Next(pieces.Length)]));

            var (_, errors) = FormulaParser.Parse(text);

            int previous = -1;
            foreach (FormulaError error in errors)
            {
                Assert.True(error.Span.Start > previous && error.Span.End <= text.Length, $"error '{error.Message}' at {error.Span} in {Escape(text)}");
                previous = error.Span.Start;
            }
        }
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString()));

    private static (string Formula, FormulaSpan Span) Unmark(string marked)
    {
        int start = marked.IndexOf('«');
        int end = marked.IndexOf('»') - 1;
        return (marked.Replace("«", "").Replace("»", ""), FormulaSpan.FromBounds(start, end));
    }

    private static IReadOnlyList<BindingSyntax> ParseValid(string formula)
    {
        var (parsed, errors) = FormulaParser.Parse(formula);
        Assert.Empty(errors.Select(e => e.Message));
        return parsed.Bindings;
    }

    private static string Text(string formula, FormulaSpan span) => formula.Substring(span.Start, span.Length);

    private static string Print(ExpressionSyntax expression) => expression switch
    {
        NumberSyntax number => number.Value.ToString(CultureInfo.InvariantCulture),
        NameSyntax name => name.Name,
        NegateSyntax negate => $"(neg {Print(negate.Operand)})",
        BinarySyntax binary => $"({binary.Operator} {Print(binary.Left)} {Print(binary.Right)})",
        CallSyntax call => $"(call {call.Name}{string.Concat(call.Arguments.Select(a => " " + (a.Name is null ? "" : a.Name + ":") + Print(a.Value)))})",
        _ => throw new ArgumentException(expression.GetType().Name),
    };
}
