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
    OpenParen,
    CloseParen,
    Comma,
    Colon,
    Equals,
    Separator, // a newline or ';'
    End,
    Invalid,
    NumberTooLarge,
}

internal readonly record struct Token(TokenKind Kind, FormulaSpan Span, string Text, double Number = 0);

/// <summary>
/// Splits a formula into tokens with their positions. Spaces and tabs are skipped, <c>//</c>
/// starts a comment to the end of the line, and newlines inside parentheses are not separators,
/// so a call can span lines.
/// </summary>
internal static class FormulaLexer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int depth = 0;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == ' ' || c == '\t' || c == '\r')
            {
                i++;
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (c == '\n' || c == ';')
            {
                if (depth == 0 || c == ';')
                {
                    tokens.Add(new Token(TokenKind.Separator, new FormulaSpan(i, 1), c.ToString()));
                }
                i++;
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
            else if (IsDigit(c) || (c == '.' && i + 1 < text.Length && IsDigit(text[i + 1])))
            {
                tokens.Add(ReadNumber(text, ref i));
            }
            else
            {
                TokenKind kind = c switch
                {
                    '+' => TokenKind.Plus,
                    '-' => TokenKind.Minus,
                    '*' => TokenKind.Star,
                    '/' => TokenKind.Slash,
                    '(' => TokenKind.OpenParen,
                    ')' => TokenKind.CloseParen,
                    ',' => TokenKind.Comma,
                    ':' => TokenKind.Colon,
                    '=' => TokenKind.Equals,
                    _ => TokenKind.Invalid,
                };
                if (kind == TokenKind.OpenParen)
                {
                    depth++;
                }
                else if (kind == TokenKind.CloseParen && depth > 0)
                {
                    depth--;
                }
                // A surrogate pair is one character to the reader: keep it in one token.
                int length = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
                tokens.Add(new Token(kind, new FormulaSpan(i, length), text.Substring(i, length)));
                i += length;
            }
        }
        tokens.Add(new Token(TokenKind.End, new FormulaSpan(text.Length, 0), ""));
        return tokens;
    }

    private static Token ReadNumber(string text, ref int i)
    {
        int start = i;
        while (i < text.Length && IsDigit(text[i]))
        {
            i++;
        }
        if (i < text.Length && text[i] == '.')
        {
            i++;
            while (i < text.Length && IsDigit(text[i]))
            {
                i++;
            }
        }
        if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
        {
            int mark = i;
            i++;
            if (i < text.Length && (text[i] == '+' || text[i] == '-'))
            {
                i++;
            }
            if (i < text.Length && IsDigit(text[i]))
            {
                while (i < text.Length && IsDigit(text[i]))
                {
                    i++;
                }
            }
            else
            {
                i = mark; // "2e" is the number 2 followed by the name e
            }
        }
        string literal = text.Substring(start, i - start);
        var span = FormulaSpan.FromBounds(start, i);
        bool parsed = double.TryParse(literal, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double value);
        return parsed && !double.IsInfinity(value)
            ? new Token(TokenKind.Number, span, literal, value)
            : new Token(TokenKind.NumberTooLarge, span, literal);
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private static bool IsNameStart(char c) => c == '_' || (c < 128 && char.IsLetter(c));

    private static bool IsNamePart(char c) => c == '_' || (c < 128 && char.IsLetterOrDigit(c));
}
