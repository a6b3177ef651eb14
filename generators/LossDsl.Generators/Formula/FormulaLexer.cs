using System.Collections.Generic;
using System.Globalization;

namespace LossDsl.Generators.Formula;

internal enum TokenKind
{
    Name,
    Number,
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    OpenParen,
    CloseParen,
    Comma,
    Colon,
    Equals,
    Semicolon,
    Newline, // \n, \r\n, \r, U+0085, U+2028 or U+2029: the line breaks of C#
    End,
    Invalid, // not part of the language; Problem says how to fix it when the mistake is a common one
}

/// <summary>
/// A token and its characters. <paramref name="Problem"/> is set on an <see cref="TokenKind.Invalid"/>
/// token whose mistake is known (a number suffix, <c>**</c>, a look-alike of <c>-</c>, …): the
/// parser reports it instead of a generic "expected …" wherever it stumbles on the token.
/// </summary>
internal readonly record struct Token(TokenKind Kind, FormulaSpan Span, string Text, double Number = 0, string? Problem = null);

/// <summary>
/// Splits a formula into tokens with their positions. Spaces are skipped and <c>//</c> starts a
/// comment to the end of the line. Every line break is a token, even inside parentheses: the
/// parser decides which ones end a binding, so that it can recover from an unclosed <c>(</c>.
/// Mistakes that are common in formulas copied from C#, Python or a paper become one
/// <see cref="TokenKind.Invalid"/> token each, with a message that says what to write instead.
/// </summary>
internal static class FormulaLexer
{
    public static List<Token> Tokenize(string text)
    {
        // About one token per three characters in a usual formula: room for them from the start.
        var tokens = new List<Token>(text.Length / 3 + 4);
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            int lineBreak = LineBreakLength(text, i);
            if (lineBreak > 0)
            {
                tokens.Add(new Token(TokenKind.Newline, new FormulaSpan(i, lineBreak), text.Substring(i, lineBreak)));
                i += lineBreak;
            }
            else if (IsSpace(c))
            {
                i++;
            }
            else if (c == '/' && At(text, i + 1) == '/')
            {
                i = EndOfLine(text, i);
            }
            else if (c == '#')
            {
                // A Python or shell comment: report the '#' once and skip what follows, which
                // is prose that would otherwise produce errors of its own.
                tokens.Add(Invalid(text, i, 1, "'#' does not start a comment: use '//'"));
                i = EndOfLine(text, i);
            }
            else if (IsNameStart(c))
            {
                int start = i;
                while (i < text.Length && IsNamePart(text[i]))
                {
                    i++;
                }
                tokens.Add(new Token(TokenKind.Name, FormulaSpan.FromBounds(start, i), text.Substring(start, i - start)));
            }
            else if (IsDigit(c) || (c == '.' && IsDigit(At(text, i + 1))))
            {
                tokens.Add(ReadNumber(text, ref i));
            }
            else
            {
                Token token = ReadSymbol(text, i);
                tokens.Add(token);
                i += token.Span.Length;
            }
        }
        tokens.Add(new Token(TokenKind.End, new FormulaSpan(text.Length, 0), ""));
        return tokens;
    }

    /// <summary>The length of the line break at <paramref name="i"/> (2 for <c>\r\n</c>), or 0.</summary>
    private static int LineBreakLength(string text, int i) => At(text, i) switch
    {
        '\r' => At(text, i + 1) == '\n' ? 2 : 1,
        '\n' or '\u0085' or '\u2028' or '\u2029' => 1,
        _ => 0,
    };

    private static Token ReadSymbol(string text, int i)
    {
        char c = text[i];
        char next = At(text, i + 1);
        if (c == '*' && next == '*')
        {
            return Invalid(text, i, 2, "'**' is not an operator: write a power with '^', as in 'x ^ 2', or with Pow(x, 2)");
        }
        if (c == '=' && next == '=')
        {
            return Invalid(text, i, 2, "'==' is not an operator: a binding is written 'Name = expression'");
        }
        TokenKind kind = c switch
        {
            '+' => TokenKind.Plus,
            '-' => TokenKind.Minus,
            '*' => TokenKind.Star,
            '/' => TokenKind.Slash,
            '^' => TokenKind.Caret,
            '(' => TokenKind.OpenParen,
            ')' => TokenKind.CloseParen,
            ',' => TokenKind.Comma,
            ':' => TokenKind.Colon,
            '=' => TokenKind.Equals,
            ';' => TokenKind.Semicolon,
            _ => TokenKind.Invalid,
        };
        if (kind != TokenKind.Invalid)
        {
            return new Token(kind, new FormulaSpan(i, 1), c.ToString());
        }
        if (LookAlike(c) is { } meant)
        {
            return Invalid(text, i, 1, $"'{c}' (U+{(int)c:X4}) is not {meant}");
        }
        if (char.GetUnicodeCategory(c) == UnicodeCategory.Format)
        {
            // A zero-width space or byte order mark, brought along by copying: quoting it would show nothing.
            return Invalid(text, i, 1, $"the invisible character U+{(int)c:X4} is not part of the language; delete it");
        }
        if (c >= 128 && char.IsLetter(c))
        {
            return Invalid(text, i, 1, $"expected a name made of ASCII letters, digits and '_', but found the character '{c}'");
        }
        // A surrogate pair is one character to the reader: keep it in one token.
        int size = char.IsHighSurrogate(c) && char.IsLowSurrogate(next) ? 2 : 1;
        return new Token(TokenKind.Invalid, new FormulaSpan(i, size), text.Substring(i, size));
    }

    private static Token ReadNumber(string text, ref int i)
    {
        int start = i;
        SkipDigits(text, ref i);
        if (At(text, i) == '.')
        {
            i++;
            SkipDigits(text, ref i);
        }
        if (At(text, i) is 'e' or 'E')
        {
            int mark = i;
            i++;
            if (At(text, i) is '+' or '-')
            {
                i++;
            }
            if (IsDigit(At(text, i)))
            {
                SkipDigits(text, ref i);
            }
            else
            {
                i = mark; // not an exponent: "2e" is read as a number with a suffix below
            }
        }
        string literal = text.Substring(start, i - start);

        // A letter, digit or '_' glued to a number: C#'s 0.5f, 10L or 1_000, an exponent without
        // digits, or a product written as in maths (2x). A name cannot start with a digit, so
        // none of these can be anything else: report the whole word once.
        int suffixStart = i;
        while (i < text.Length && IsNamePart(text[i]))
        {
            i++;
        }
        if (i > suffixStart)
        {
            return Invalid(text, start, i - start, SuffixProblem(literal, text.Substring(suffixStart, i - suffixStart)));
        }

        var span = FormulaSpan.FromBounds(start, i);
        bool parsed = double.TryParse(literal, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double value);
        return parsed && !double.IsInfinity(value)
            ? new Token(TokenKind.Number, span, literal, value)
            : new Token(TokenKind.Invalid, span, literal, Problem: $"the number '{literal}' is too large");
    }

    private static string SuffixProblem(string number, string suffix)
    {
        string written = number + suffix;
        if (number == "0" && suffix[0] is 'x' or 'X' or 'b' or 'B')
        {
            return $"'{written}' is not a number: numbers are written in decimal, such as 0.5 or 1e-3";
        }
        if (suffix[0] == '_' && IsDigit(At(suffix, 1)))
        {
            return $"numbers take no '_' separators: write {number}{suffix.Replace("_", "")}";
        }
        if (suffix is "e" or "E" && number.IndexOfAny(new[] { 'e', 'E' }) < 0)
        {
            return $"'{written}' is not a number: an exponent needs digits, as in {number}e-3";
        }
        return suffix.ToLowerInvariant() is "f" or "d" or "m" or "l" or "u" or "ul" or "lu"
            ? $"numbers take no suffix: write {number}"
            : $"'{written}' is not a number or a name: a name cannot start with a digit; to multiply, write '{number} * {suffix}'";
    }

    private static void SkipDigits(string text, ref int i)
    {
        while (IsDigit(At(text, i)))
        {
            i++;
        }
    }

    /// <summary>
    /// What a character that looks like one of the language's symbols should be, for the
    /// characters that word processors, PDFs and papers substitute for them.
    /// </summary>
    private static string? LookAlike(char c) => c switch
    {
        '\u2212' or '\u2010' or '\u2011' or '\u2012' or '\u2013' or '\u2014' or '\uFE63' or '\uFF0D' => "the minus sign '-'; type '-'",
        '\u00D7' or '\u2217' or '\u22C5' or '\u00B7' or '\u2219' or '\uFF0A' => "the multiplication sign '*'; type '*'",
        '\u00F7' or '\u2215' or '\u2044' or '\uFF0F' => "the division sign '/'; type '/'",
        '\uFF0B' => "the plus sign '+'; type '+'",
        '\uFF1D' => "the equals sign '='; type '='",
        '\uFF08' => "'('; type '('",
        '\uFF09' => "')'; type ')'",
        '\uFF0C' => "','; type ','",
        '\uFF1A' => "':'; type ':'",
        '\uFF1B' => "';'; type ';'",
        _ => null,
    };

    private static Token Invalid(string text, int start, int length, string problem)
        => new(TokenKind.Invalid, new FormulaSpan(start, length), text.Substring(start, length), Problem: problem);

    private static int EndOfLine(string text, int i)
    {
        while (i < text.Length && LineBreakLength(text, i) == 0)
        {
            i++;
        }
        return i;
    }

    private static char At(string text, int i) => i < text.Length ? text[i] : '\0';

    // As in C#: a tab, a vertical tab, a form feed or any Unicode space (such as the no-break
    // space that text copied from a web page or a PDF brings along).
    private static bool IsSpace(char c) => c is '\t' or '\v' or '\f' || char.GetUnicodeCategory(c) == UnicodeCategory.SpaceSeparator;

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private static bool IsNameStart(char c) => c == '_' || (c < 128 && char.IsLetter(c));

    private static bool IsNamePart(char c) => c == '_' || (c < 128 && char.IsLetterOrDigit(c));
}
