using System;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace LossDsl.Generators.Text;

/// <summary>A thin indented writer over a <see cref="StringBuilder"/>, with <c>\n</c> line endings.</summary>
internal sealed class SourceWriter
{
    // A loss type's file is some thousands of characters. One builder is kept between files (taken
    // by one writer at a time), so a cold run over many loss types allocates its blocks once, not
    // once per file; a builder grown past the limit (a hostile formula's file) is left to the GC.
    private const int InitialCapacity = 16 * 1024;
    private const int KeptCapacity = 256 * 1024;
    private static StringBuilder? s_spare;

    private StringBuilder _builder = Interlocked.Exchange(ref s_spare, null)?.Clear() ?? new StringBuilder(InitialCapacity);
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

    /// <summary>
    /// A line given as an interpolated string: its parts go straight into the builder, with no
    /// string of the whole line made first. The text is the one <c>string.Format</c> would give.
    /// </summary>
    public SourceWriter Line([InterpolatedStringHandlerArgument("")] ref LineHandler line)
    {
        line.End();
        return this;
    }

    public SourceWriter Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
        return this;
    }

    /// <inheritdoc cref="Line(ref LineHandler)"/>
    public SourceWriter Open([InterpolatedStringHandlerArgument("")] ref LineHandler line)
    {
        line.End();
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    /// <summary>The text written. The writer is done: it gives its builder back for the next file.</summary>
    public string Finish()
    {
        StringBuilder builder = _builder;
        _builder = null!;
        string text = builder.ToString();
        if (builder.Capacity <= KeptCapacity)
        {
            builder.Clear();
            Volatile.Write(ref s_spare, builder);
        }
        return text;
    }

    /// <summary>Writes an interpolated line into the writer's builder, indented as <see cref="Line(string)"/> indents it.</summary>
    [InterpolatedStringHandler]
    public readonly ref struct LineHandler
    {
        private readonly StringBuilder _builder;
        private readonly int _start;
        private readonly int _textStart;

        public LineHandler(int literalLength, int formattedCount, SourceWriter writer)
        {
            _builder = writer._builder;
            _start = _builder.Length;
            _builder.Append(' ', writer._indent * 4);
            _textStart = _builder.Length;
        }

        public void AppendLiteral(string value) => _builder.Append(value);

        public void AppendFormatted(string? value) => _builder.Append(value);

        // As string.Format writes an argument with no format provider.
        public void AppendFormatted<T>(T value) => _builder.Append(value is IFormattable formattable ? formattable.ToString(null, null) : value?.ToString());

        /// <summary>Ends the line; an empty one is written without its indent, as <see cref="Line(string)"/> writes it.</summary>
        internal void End()
        {
            if (_builder.Length == _textStart)
            {
                _builder.Length = _start;
            }
            _builder.Append('\n');
        }
    }
}
