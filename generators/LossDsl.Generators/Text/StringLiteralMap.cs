using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace LossDsl.Generators.Text;

/// <summary>
/// Maps positions in a string literal's value back to the characters of its source text, for
/// regular (with escapes), verbatim (<c>@"…"</c>) and raw (<c>"""…"""</c>, whose indentation
/// is removed from each line) literals. When the literal is of another form, or the rebuilt
/// value does not match the compiler's, every position maps to the whole literal instead.
/// </summary>
internal sealed class StringLiteralMap
{
    private readonly TextSpan _literal;
    // Value index → absolute source span of the characters that wrote it (an escape sequence, a
    // doubled quote, or the character itself); one extra empty span for the end of the value.
    private readonly TextSpan[]? _characters;

    private StringLiteralMap(TextSpan literal, TextSpan[]? characters)
    {
        _literal = literal;
        _characters = characters;
    }

    /// <summary>A map that points everything at <paramref name="span"/> (a constant, a concatenation, …).</summary>
    public static StringLiteralMap Whole(TextSpan span) => new(span, null);

    public static StringLiteralMap Create(string tokenText, int tokenStart, string value)
    {
        var span = new TextSpan(tokenStart, tokenText.Length);
        var rebuilt = new Rebuilt(tokenStart);
        bool mapped = false;
        if (tokenText.StartsWith("\"\"\"", StringComparison.Ordinal))
        {
            mapped = MapRaw(tokenText, rebuilt);
        }
        else if (tokenText.StartsWith("@\"", StringComparison.Ordinal))
        {
            mapped = MapVerbatim(tokenText, rebuilt);
        }
        else if (tokenText.StartsWith("\"", StringComparison.Ordinal))
        {
            mapped = MapRegular(tokenText, rebuilt);
        }
        return mapped && rebuilt.Value.ToString() == value ? new StringLiteralMap(span, rebuilt.Characters.ToArray()) : Whole(span);
    }

    /// <summary>The source span of the value characters [start, start + length).</summary>
    public TextSpan Map(int start, int length)
    {
        if (_characters is null || start < 0 || length < 0 || start + length >= _characters.Length)
        {
            return _literal;
        }
        if (length == 0)
        {
            return new TextSpan(_characters[start].Start, 0);
        }
        // From the first character's source to the end of the last one's, which may be an escape
        // sequence; never beyond it, onto the indentation that a raw literal's next line drops.
        return TextSpan.FromBounds(_characters[start].Start, _characters[start + length - 1].End);
    }

    /// <summary>The value rebuilt from the source text, with where each of its characters was written.</summary>
    private sealed class Rebuilt(int tokenStart)
    {
        public StringBuilder Value { get; } = new();
        public List<TextSpan> Characters { get; } = new();

        /// <summary>Adds the value characters <paramref name="decoded"/>, all written by the token's characters [start, end).</summary>
        public void Add(string decoded, int start, int end)
        {
            foreach (char c in decoded)
            {
                Value.Append(c);
                Characters.Add(TextSpan.FromBounds(tokenStart + start, tokenStart + end));
            }
        }

        public void Add(char c, int at) => Add(c.ToString(), at, at + 1);

        /// <summary>Ends the value at <paramref name="at"/>, where a position just after its last character maps.</summary>
        public bool End(int at)
        {
            Characters.Add(new TextSpan(tokenStart + at, 0));
            return true;
        }
    }

    private static bool MapRegular(string text, Rebuilt rebuilt)
    {
        int end = text.Length - 1; // the closing quote
        int i = 1;
        while (i < end)
        {
            int start = i;
            if (text[i] != '\\')
            {
                rebuilt.Add(text[i], i);
                i++;
                continue;
            }
            char kind = i + 1 < end ? text[i + 1] : '\0';
            string? decoded = null;
            int length = 2;
            switch (kind)
            {
                case 'n': decoded = "\n"; break;
                case 'r': decoded = "\r"; break;
                case 't': decoded = "\t"; break;
                case '0': decoded = "\0"; break;
                case 'a': decoded = "\a"; break;
                case 'b': decoded = "\b"; break;
                case 'f': decoded = "\f"; break;
                case 'v': decoded = "\v"; break;
                case 'e': decoded = "\u001b"; break;
                case '\\': decoded = "\\"; break;
                case '"': decoded = "\""; break;
                case '\'': decoded = "'"; break;
                case 'u': length = 6; decoded = Hex(text, i + 2, 4); break;
                case 'U': length = 10; decoded = Hex(text, i + 2, 8); break;
                case 'x':
                    int digits = 0;
                    while (digits < 4 && i + 2 + digits < end && Uri.IsHexDigit(text[i + 2 + digits])) digits++;
                    length = 2 + digits;
                    decoded = digits == 0 ? null : Hex(text, i + 2, digits);
                    break;
            }
            if (decoded is null)
            {
                return false; // not an escape this map knows: fall back to the whole literal
            }
            rebuilt.Add(decoded, start, start + length);
            i += length;
        }
        return rebuilt.End(end);
    }

    private static string? Hex(string text, int start, int count)
    {
        if (start + count > text.Length)
        {
            return null;
        }
        int code = 0;
        for (int k = 0; k < count; k++)
        {
            char c = text[start + k];
            if (!Uri.IsHexDigit(c))
            {
                return null;
            }
            code = (code * 16) + Uri.FromHex(c);
        }
        // \uXXXX may name a lone surrogate, which C# allows; longer escapes must be a real code point.
        if (count == 4 || code < 0x10000)
        {
            return ((char)code).ToString();
        }
        return code > 0x10FFFF ? null : char.ConvertFromUtf32(code);
    }

    private static bool MapVerbatim(string text, Rebuilt rebuilt)
    {
        int end = text.Length - 1;
        for (int i = 2; i < end; i++)
        {
            if (text[i] == '"')
            {
                rebuilt.Add("\"", i, i + 2); // "" is one quote
                i++;
            }
            else
            {
                rebuilt.Add(text[i], i);
            }
        }
        return rebuilt.End(end);
    }

    private static bool MapRaw(string text, Rebuilt rebuilt)
    {
        int quotes = 0;
        while (quotes < text.Length && text[quotes] == '"') quotes++;
        int contentStart = quotes, contentEnd = text.Length - quotes;
        if (contentEnd < contentStart)
        {
            return false;
        }
        int firstBreak = NextLineBreak(text, contentStart, contentEnd, out int firstBreakLength);
        if (firstBreak < 0)
        {
            // Single line: the content as written.
            for (int i = contentStart; i < contentEnd; i++)
            {
                rebuilt.Add(text[i], i);
            }
            return rebuilt.End(contentEnd);
        }

        // Multi-line: the first line (after the opening quotes) and the last line (the closing
        // quotes' indentation) are not content; each content line loses that indentation. Lines
        // end as C# ends them (\r\n, \r, \n, U+0085, U+2028, U+2029: a file saved with classic
        // Mac line endings has only \r), and the value keeps each break between content lines
        // as written.
        int closingBreak = LastLineBreak(text, contentStart, contentEnd, out int closingBreakLength);
        int indentation = contentEnd - (closingBreak + closingBreakLength);
        int lineStart = firstBreak + firstBreakLength;
        int previousBreak = -1, previousBreakLength = 0;
        while (lineStart <= closingBreak)
        {
            int lineEnd = NextLineBreak(text, lineStart, contentEnd, out int breakLength);
            if (previousBreak >= 0)
            {
                // The line break between two content lines is part of the value.
                for (int k = previousBreak; k < previousBreak + previousBreakLength; k++)
                {
                    rebuilt.Add(text[k], k);
                }
            }
            int contentFrom = lineEnd - lineStart >= indentation ? lineStart + indentation : lineEnd;
            for (int k = contentFrom; k < lineEnd; k++)
            {
                rebuilt.Add(text[k], k);
            }
            previousBreak = lineEnd;
            previousBreakLength = breakLength;
            lineStart = lineEnd + breakLength;
        }
        return rebuilt.End(closingBreak);
    }

    /// <summary>The start of the first line break in [from, to), and its length; -1 when there is none.</summary>
    private static int NextLineBreak(string text, int from, int to, out int length)
    {
        for (int i = from; i < to; i++)
        {
            length = LineBreakLength(text, i, to);
            if (length > 0)
            {
                return i;
            }
        }
        length = 0;
        return -1;
    }

    /// <summary>The start of the last line break in [from, to), and its length; -1 when there is none.</summary>
    private static int LastLineBreak(string text, int from, int to, out int length)
    {
        for (int i = to - 1; i >= from; i--)
        {
            length = LineBreakLength(text, i, to);
            if (length > 0)
            {
                // A \n just after a \r is the end of one \r\n break.
                if (text[i] == '\n' && i > from && text[i - 1] == '\r')
                {
                    length = 2;
                    return i - 1;
                }
                return i;
            }
        }
        length = 0;
        return -1;
    }

    private static int LineBreakLength(string text, int i, int end) => text[i] switch
    {
        '\r' => i + 1 < end && text[i + 1] == '\n' ? 2 : 1,
        '\n' or '\u0085' or '\u2028' or '\u2029' => 1,
        _ => 0,
    };
}
