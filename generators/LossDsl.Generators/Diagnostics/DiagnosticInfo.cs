using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace LossDsl.Generators.Diagnostics;

/// <summary>
/// Where a diagnostic points, as plain values (a <see cref="Location"/> would pin the
/// compilation). It becomes a real source location again when reported, so that
/// <c>#pragma warning disable</c> and .editorconfig severities reach it.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location)
    {
        if (location is null || location.SourceTree is null)
        {
            return null;
        }
        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    /// <summary>A location in the tree of <paramref name="trees"/> with this path, or a file location when there is none.</summary>
    public Location ToLocation(IReadOnlyDictionary<string, SyntaxTree>? trees)
        => trees is not null && trees.TryGetValue(FilePath, out SyntaxTree? tree) && Span.End <= tree.Length
            ? Location.Create(tree, Span)
            : Location.Create(FilePath, Span, LineSpan);
}

/// <summary>A diagnostic as an equatable record: its descriptor, location and message arguments.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
        => new(descriptor, location, new EquatableArray<string>(arguments));

    public string Id => Descriptor.Id;

    /// <summary>The message as the user reads it, without a location: for the stub of a method with errors.</summary>
    public string Message
        => string.Format(System.Globalization.CultureInfo.InvariantCulture, Descriptor.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), Arguments.Cast<object>().ToArray());

    public Diagnostic ToDiagnostic(IReadOnlyDictionary<string, SyntaxTree>? trees)
        => Diagnostic.Create(Descriptor, Location?.ToLocation(trees), messageArgs: Arguments.Count == 0 ? null : Arguments.Cast<object>().ToArray());
}
