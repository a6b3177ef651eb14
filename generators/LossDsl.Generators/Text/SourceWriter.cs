using System.Text;

namespace LossDsl.Generators.Text;

/// <summary>A thin indented writer over a <see cref="StringBuilder"/>, with <c>\n</c> line endings.</summary>
internal sealed class SourceWriter
{
    // A loss type's file is some thousands of characters: one block, instead of a chain grown a step at a time.
    private readonly StringBuilder _builder = new(16 * 1024);
    private int _indent;

    public SourceWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
        }
        _builder.Append(text).Append('\n');
        return this;
    }

    public SourceWriter Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    public override string ToString() => _builder.ToString();
}
