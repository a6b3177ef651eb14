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
    private readonly int[]? _offsets; // value index → absolute source position; one extra entry for the end

    private StringLiteralMap(TextSpan literal, int[]? offsets)
    {
        _literal = literal;
        _offsets = offsets;
    }

    /// <summary>A map that points everything at <paramref name="span"/> (a constant, a concatenation, …).</summary>
    public static StringLiteralMap Whole(TextSpan span) => new(span, null);

    public static StringLiteralMap Create(string tokenText, int tokenStart, string value)
    {
        var span = new TextSpan(tokenStart, tokenText.Length);
        List<int>? offsets = null;
        StringBuilder built = new();
        if (tokenText.StartsWith("\"\"\"", System.StringComparison.Ordinal))
        {
            offsets = MapRaw(tokenText, built);
        }
        else if (tokenText.StartsWith("@\"", System.StringComparison.Ordinal))
        {
            offsets = MapVerbatim(tokenText, built);
        }
        else if (tokenText.StartsWith("\"", System.StringComparison.Ordinal))
        {
            offsets = MapRegular(tokenText, built);
        }

        if (offsets is null || built.ToString() != value)
        {
            return Whole(span);
        }
        var absolute = new int[offsets.Count];
        for (int i = 0; i < offsets.Count; i++)
        {
            absolute[i] = tokenStart + offsets[i];
        }
        return new StringLiteralMap(span, absolute);
    }

    /// <summary>The source span of the value characters [start, start + length).</summary>
    public TextSpan Map(int start, int length)
    {
        if (_offsets is null || start < 0 || length < 0 || start + length >= _offsets.Length)
        {
            return _literal;
        }
        int from = _offsets[start];
        if (length == 0)
        {
            return new TextSpan(from, 0);
        }
        // The end is just after the last character of the span, which may be an escape sequence.
        int last = start + length - 1;
        int to = _offsets[last + 1] > _offsets[last] ? _offsets[last + 1] : _offsets[last] + 1;
        return to >= from ? TextSpan.FromBounds(from, to) : _literal;
    }

    private static List<int> MapRegular(string text, StringBuilder built)
    {
        var offsets = new List<int>();
        int end = text.Length - 1; // the closing quote
        int i = 1;
        while (i < end)
        {
            int start = i;
            if (text[i] != '\\')
            {
                built.Append(text[i]);
                offsets.Add(i);
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
                built.Append('\uFFFF'); // never equals the real value: fall back to the whole literal
                return offsets;
            }
            foreach (char c in decoded)
            {
                built.Append(c);
                offsets.Add(start);
            }
            i += length;
        }
        offsets.Add(end);
        return offsets;
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

    private static List<int> MapVerbatim(string text, StringBuilder built)
    {
        var offsets = new List<int>();
        int end = text.Length - 1;
        for (int i = 2; i < end; i++)
        {
            built.Append(text[i]);
            offsets.Add(i);
            if (text[i] == '"')
            {
                i++; // "" is one quote
            }
        }
        offsets.Add(end);
        return offsets;
    }

    private static List<int>? MapRaw(string text, StringBuilder built)
    {
        int quotes = 0;
        while (quotes < text.Length && text[quotes] == '"') quotes++;
        int contentStart = quotes, contentEnd = text.Length - quotes;
        if (contentEnd < contentStart)
        {
            return null;
        }
        var offsets = new List<int>();
        int firstBreak = text.IndexOf('\n', contentStart, contentEnd - contentStart);
        if (firstBreak < 0)
        {
            // Single line: the content as written.
            for (int i = contentStart; i < contentEnd; i++)
            {
                built.Append(text[i]);
                offsets.Add(i);
            }
            offsets.Add(contentEnd);
            return offsets;
        }

        // Multi-line: the first line (after the opening quotes) and the last line (the closing
        // quotes' indentation) are not content; each content line loses that indentation.
        int lastBreak = text.LastIndexOf('\n', contentEnd - 1);
        int indentation = contentEnd - (lastBreak + 1);
        int closingBreakStart = lastBreak > 0 && text[lastBreak - 1] == '\r' ? lastBreak - 1 : lastBreak;
        int lineStart = firstBreak + 1;
        bool firstLine = true;
        while (lineStart <= closingBreakStart)
        {
            int lineBreak = text.IndexOf('\n', lineStart);
            int lineEnd = lineBreak > 0 && text[lineBreak - 1] == '\r' ? lineBreak - 1 : lineBreak;
            if (!firstLine)
            {
                // The line break between two content lines is part of the value.
                int previousBreakStart = text[lineStart - 2] == '\r' && lineStart >= 2 ? lineStart - 2 : lineStart - 1;
                for (int k = previousBreakStart; k < lineStart; k++)
                {
                    built.Append(text[k]);
                    offsets.Add(k);
                }
            }
            int contentFrom = lineEnd - lineStart >= indentation ? lineStart + indentation : lineEnd;
            for (int k = contentFrom; k < lineEnd; k++)
            {
                built.Append(text[k]);
                offsets.Add(k);
            }
            firstLine = false;
            lineStart = lineBreak + 1;
        }
        offsets.Add(closingBreakStart);
        return offsets;
    }
}
