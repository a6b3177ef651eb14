using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using LossDsl;
using Microsoft.CodeAnalysis;

namespace LossDsl.Testing;

/// <summary>
/// The metadata references a compilation of loss classes needs: the running framework, TorchSharp
/// and the LossDsl runtime. Linked into the generator tests and the generator benchmarks.
/// </summary>
internal static class LossDslReferences
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_all = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(TorchSharp.torch).Assembly.Location)
            .Append(typeof(LossAttribute).Assembly.Location)
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    public static ImmutableArray<MetadataReference> All => s_all.Value;
}
