using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Formula;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// The lexer on its own: which tokens a formula is made of, where each one is, and which
/// common mistakes become one token that carries the message the user will see.
/// </summary>
public class LexerTests
{
    [Fact]
    public void ABindingIsSplitIntoTokensWithTheirSpans()
    {
        List<Token> tokens = FormulaLexer.Tokenize("Kd = Balance(Soft, to: Hard) * 0.5");

        Assert.Equal(
            new[]
            {
                (TokenKind.Name, "Kd", 0, 2), (TokenKind.Equals, "=", 3, 1), (TokenKind.Name, "Balance", 5, 7),
                (TokenKind.OpenParen, "(", 12, 1), (TokenKind.Name, "Soft", 13, 4), (TokenKind.Comma, ",", 17, 1),
                (TokenKind.Name, "to", 19, 2), (TokenKind.Colon, ":", 21, 1), (TokenKind.Name, "Hard", 23, 4),
                (TokenKind.CloseParen, ")", 27, 1), (TokenKind.Star, "*", 29, 1), (TokenKind.Number, "0.5", 31, 3),
                (TokenKind.End, "", 34, 0),
            },
            tokens.Select(t => (t.Kind, t.Text, t.Span.Start, t.Span.Length)));
        Assert.All(tokens, t => Assert.Null(t.Problem));
    }

    [Fact]
    public void EveryOperatorAndPunctuationIsItsOwnToken()
    {
        Assert.Equal(
            new[]
            {
                TokenKind.Plus, TokenKind.Minus, TokenKind.Star, TokenKind.Slash, TokenKind.Caret, TokenKind.OpenParen, TokenKind.CloseParen,
                TokenKind.Comma, TokenKind.Colon, TokenKind.Equals, TokenKind.Semicolon, TokenKind.End,
            },
            Kinds("+-*/^(),:=;"));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("007", 7)]
    [InlineData("0.5", 0.5)]
    [InlineData(".5", 0.5)]
    [InlineData("3.", 3)]
    [InlineData("1e-3", 1e-3)]
    [InlineData("1E+2", 100)]
    [InlineData("2.5e3", 2500)]
    [InlineData("1e-400", 0)] // underflows to zero, which is a number
    public void NumbersAreDecimalWithAnOptionalExponent(string text, double value)
    {
        Token token = Assert.Single(FormulaLexer.Tokenize(text), t => t.Kind != TokenKind.End);

        Assert.Equal(TokenKind.Number, token.Kind);
        Assert.Equal(value, token.Number);
        Assert.Equal(new FormulaSpan(0, text.Length), token.Span);
    }

    [Fact]
    public void ANumberTooLargeForADoubleIsOneInvalidToken()
    {
        Token token = FormulaLexer.Tokenize("x * 1e999")[2];

        Assert.Equal(TokenKind.Invalid, token.Kind);
        Assert.Equal(new FormulaSpan(4, 5), token.Span);
        Assert.Equal("the number '1e999' is too large", token.Problem);
    }

    [Theory]
    [InlineData("0.5f", "numbers take no suffix: write 0.5")]
    [InlineData("0.5F", "numbers take no suffix: write 0.5")]
    [InlineData("2d", "numbers take no suffix: write 2")]
    [InlineData("1e-3f", "numbers take no suffix: write 1e-3")]
    [InlineData("10L", "numbers take no suffix: write 10")]
    [InlineData("3.5m", "numbers take no suffix: write 3.5")]
    [InlineData("4UL", "numbers take no suffix: write 4")]
    [InlineData(".5f", "numbers take no suffix: write .5")]
    [InlineData("2e", "'2e' is not a number: an exponent needs digits, as in 2e-3")]
    [InlineData("1e5e", "'1e5e' is not a number or a name: a name cannot start with a digit; to multiply, write '1e5 * e'")]
    [InlineData("2x", "'2x' is not a number or a name: a name cannot start with a digit; to multiply, write '2 * x'")]
    [InlineData("0.5Alpha", "'0.5Alpha' is not a number or a name: a name cannot start with a digit; to multiply, write '0.5 * Alpha'")]
    [InlineData("1_000", "numbers take no '_' separators: write 1000")]
    [InlineData("0x1F", "'0x1F' is not a number: numbers are written in decimal, such as 0.5 or 1e-3")]
    public void ALetterGluedToANumberIsOneTokenThatSaysWhatToWrite(string written, string problem)
    {
        List<Token> tokens = FormulaLexer.Tokenize($"x * {written} + y");

        Token token = tokens[2];
        Assert.Equal(TokenKind.Invalid, token.Kind);
        Assert.Equal(new FormulaSpan(4, written.Length), token.Span);
        Assert.Equal(problem, token.Problem);
        Assert.Equal(new[] { TokenKind.Plus, TokenKind.Name, TokenKind.End }, tokens.Skip(3).Select(t => t.Kind));
    }

    [Fact]
    public void AnExponentSignWithoutDigitsLeavesTheSignOutOfTheNumber()
    {
        List<Token> tokens = FormulaLexer.Tokenize("1e-x");

        Assert.Equal(new[] { "1e", "-", "x", "" }, tokens.Select(t => t.Text));
        Assert.Equal(TokenKind.Invalid, tokens[0].Kind);
    }

    [Theory]
    [InlineData("a // a note\nb")]
    [InlineData("a // a note with ** and # and − \nb")]
    [InlineData("a //\nb")]
    public void ACommentRunsToTheEndOfItsLine(string text)
    {
        Assert.Equal(new[] { TokenKind.Name, TokenKind.Newline, TokenKind.Name, TokenKind.End }, Kinds(text));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    [InlineData("\u0085")]
    [InlineData("\u2028")]
    [InlineData("\u2029")]
    public void EveryLineBreakOfCSharpIsOneNewlineToken(string lineBreak)
    {
        List<Token> tokens = FormulaLexer.Tokenize($"a{lineBreak}b");

        Assert.Equal(new[] { TokenKind.Name, TokenKind.Newline, TokenKind.Name, TokenKind.End }, tokens.Select(t => t.Kind));
        Assert.Equal(new FormulaSpan(1, lineBreak.Length), tokens[1].Span);
        Assert.Equal(new FormulaSpan(1 + lineBreak.Length, 1), tokens[2].Span);
    }

    [Fact]
    public void TwoCarriageReturnsAreTwoLineBreaks()
    {
        Assert.Equal(new[] { TokenKind.Name, TokenKind.Newline, TokenKind.Newline, TokenKind.Name, TokenKind.End }, Kinds("a\r\rb"));
        Assert.Equal(new[] { TokenKind.Name, TokenKind.Newline, TokenKind.Newline, TokenKind.Name, TokenKind.End }, Kinds("a\n\r\nb"));
    }

    [Fact]
    public void LineBreaksInsideParenthesesAreStillTokens()
    {
        // Whether a line break ends a binding is the parser's decision.
        Assert.Equal(
            new[] { TokenKind.Name, TokenKind.OpenParen, TokenKind.Name, TokenKind.Comma, TokenKind.Newline, TokenKind.Name, TokenKind.CloseParen, TokenKind.End },
            Kinds("f(a,\nb)"));
    }

    [Theory]
    [InlineData("\t")]
    [InlineData("\v")]
    [InlineData("\f")]
    [InlineData("\u00A0")] // no-break space
    [InlineData("\u2009")] // thin space
    [InlineData("\u202F")] // narrow no-break space
    [InlineData("\u3000")] // ideographic space
    public void SpacesAreSkippedAsInCSharp(string space)
    {
        List<Token> tokens = FormulaLexer.Tokenize($"a{space}+{space}b");

        Assert.Equal(new[] { "a", "+", "b", "" }, tokens.Select(t => t.Text));
        Assert.Equal(new FormulaSpan(4, 1), tokens[2].Span);
    }

    [Fact]
    public void AHashIsOneProblemAndTheRestOfItsLineIsSkipped()
    {
        List<Token> tokens = FormulaLexer.Tokenize("a # weight ** 2 (\nb");

        Assert.Equal(new[] { TokenKind.Name, TokenKind.Invalid, TokenKind.Newline, TokenKind.Name, TokenKind.End }, tokens.Select(t => t.Kind));
        Assert.Equal(new FormulaSpan(2, 1), tokens[1].Span);
        Assert.Equal("'#' does not start a comment: use '//'", tokens[1].Problem);
    }

    [Theory]
    [InlineData("a ** 2", 2, 2, "'**' is not an operator: write a power with '^', as in 'x ^ 2', or with Pow(x, 2)")]
    [InlineData("a == b", 2, 2, "'==' is not an operator: a binding is written 'Name = expression'")]
    [InlineData("a − b", 2, 1, "'−' (U+2212) is not the minus sign '-'; type '-'")]
    [InlineData("a – b", 2, 1, "'–' (U+2013) is not the minus sign '-'; type '-'")]
    [InlineData("a — b", 2, 1, "'—' (U+2014) is not the minus sign '-'; type '-'")]
    [InlineData("a ‐ b", 2, 1, "'‐' (U+2010) is not the minus sign '-'; type '-'")]
    [InlineData("a × b", 2, 1, "'×' (U+00D7) is not the multiplication sign '*'; type '*'")]
    [InlineData("a · b", 2, 1, "'·' (U+00B7) is not the multiplication sign '*'; type '*'")]
    [InlineData("a ⋅ b", 2, 1, "'⋅' (U+22C5) is not the multiplication sign '*'; type '*'")]
    [InlineData("a ÷ b", 2, 1, "'÷' (U+00F7) is not the division sign '/'; type '/'")]
    [InlineData("a ∕ b", 2, 1, "'∕' (U+2215) is not the division sign '/'; type '/'")]
    [InlineData("a ＋ b", 2, 1, "'＋' (U+FF0B) is not the plus sign '+'; type '+'")]
    [InlineData("a ＝ b", 2, 1, "'＝' (U+FF1D) is not the equals sign '='; type '='")]
    [InlineData("f（a)", 1, 1, "'（' (U+FF08) is not '('; type '('")]
    [InlineData("f(a，b)", 3, 1, "'，' (U+FF0C) is not ','; type ','")]
    [InlineData("a\u200B+ b", 1, 1, "the invisible character U+200B is not part of the language; delete it")]
    [InlineData("\uFEFFa", 0, 1, "the invisible character U+FEFF is not part of the language; delete it")]
    [InlineData("a + λ", 4, 1, "expected a name made of ASCII letters, digits and '_', but found the character 'λ'")]
    public void ACommonMistakeIsOneTokenThatSaysWhatToWrite(string text, int start, int length, string problem)
    {
        Token token = Assert.Single(FormulaLexer.Tokenize(text), t => t.Kind == TokenKind.Invalid);

        Assert.Equal(new FormulaSpan(start, length), token.Span);
        Assert.Equal(problem, token.Problem);
    }

    [Theory]
    [InlineData("a $ b", "$")]
    [InlineData("a . b", ".")]
    [InlineData("a ! b", "!")]
    [InlineData("a １ b", "１")] // a fullwidth digit: a number is made of ASCII digits, and the message stays the generic one
    public void AnyOtherCharacterIsAnInvalidTokenWithoutAProblem(string text, string character)
    {
        Token token = Assert.Single(FormulaLexer.Tokenize(text), t => t.Kind == TokenKind.Invalid);

        Assert.Equal(character, token.Text);
        Assert.Null(token.Problem);
    }

    [Fact]
    public void ASurrogatePairIsOneInvalidToken()
    {
        Token token = Assert.Single(FormulaLexer.Tokenize("a 😀 b"), t => t.Kind == TokenKind.Invalid);

        Assert.Equal(new FormulaSpan(2, 2), token.Span);
        Assert.Equal("😀", token.Text);
    }

    [Fact]
    public void ALoneSurrogateIsOneInvalidCharacter()
    {
        List<Token> tokens = FormulaLexer.Tokenize("a \uD83D b");

        Assert.Equal(new FormulaSpan(2, 1), Assert.Single(tokens, t => t.Kind == TokenKind.Invalid).Span);
        Assert.Equal(new[] { "a", "\uD83D", "b", "" }, tokens.Select(t => t.Text));
    }

    [Fact]
    public void NamesAreAsciiLettersDigitsAndUnderscores()
    {
        Assert.Equal(new[] { "_a1", "B_2", "" }, FormulaLexer.Tokenize("_a1 B_2").Select(t => t.Text));
        Assert.Equal(new[] { "S", "ö", "ft", "" }, FormulaLexer.Tokenize("Söft").Select(t => t.Text));
    }

    [Fact]
    public void TheEndTokenSitsAfterTheLastCharacter()
    {
        Assert.Equal(new FormulaSpan(0, 0), Assert.Single(FormulaLexer.Tokenize("")).Span);
        Assert.Equal(new FormulaSpan(3, 0), FormulaLexer.Tokenize("a  ").Last().Span);
    }

    private static IEnumerable<TokenKind> Kinds(string text) => FormulaLexer.Tokenize(text).Select(t => t.Kind);
}
