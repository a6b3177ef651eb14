using System.Globalization;
using System.Text;

namespace LossDsl.Generators.Text;

/// <summary>Text that goes into a generated one-line XML doc comment.</summary>
internal static class DocComment
{
    /// <summary>
    /// Escapes XML, and writes as <c>\uXXXX</c> (as the C# literal of the same text shows it) every
    /// character that would end the <c>///</c> line (line feed, carriage return, U+0085, U+2028,
    /// U+2029), every other control character (XML does not allow them) and every unpaired surrogate.
    /// </summary>
    public static string Text(string text)
    {
        int first = 0;
        while (first < text.Length && !Escaped(text, first))
        {
            first++;
        }
        if (first == text.Length)
        {
            return text; // most text (names, documentation IDs, metric keys) needs nothing: no copy
        }
        var builder = new StringBuilder(text.Length + 16);
        builder.Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&':
                    builder.Append("&amp;");
                    break;
                case '<':
                    builder.Append("&lt;");
                    break;
                case '>':
                    builder.Append("&gt;");
                    break;
                default:
                    if (Escaped(text, i))
                    {
                        builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }
                    break;
            }
        }
        return builder.ToString();
    }

    /// <summary>Whether the character at <paramref name="i"/> is not written as itself: an XML special character, or one written as <c>\uXXXX</c>.</summary>
    private static bool Escaped(string text, int i)
    {
        char c = text[i];
        if (c is '&' or '<' or '>')
        {
            return true;
        }
        bool unpaired = char.IsHighSurrogate(c) ? i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1])
            : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(text[i - 1]));
        return char.IsControl(c) || unpaired || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
    }
}
