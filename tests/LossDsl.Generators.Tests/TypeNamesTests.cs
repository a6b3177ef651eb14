using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// <see cref="TypeNames"/> writes the names of most referenced types itself instead of asking
/// Roslyn's formatter (which costs on every edit): for every type it must write exactly what the
/// formatter writes, in each format the generator uses, with and without nullable annotations.
/// </summary>
public class TypeNamesTests
{
    private static readonly SymbolDisplayFormat[] s_formats =
    {
        SymbolDisplayFormat.FullyQualifiedFormat, DeclarationReader.SignatureFormat, SymbolDisplayFormat.CSharpErrorMessageFormat,
    };

    private static readonly NullableAnnotation[] s_annotations = { NullableAnnotation.None, NullableAnnotation.NotAnnotated, NullableAnnotation.Annotated };

    [Fact]
    public void EveryTypeIsWrittenAsRoslynWritesIt()
    {
        // Types whose names the formatter escapes or qualifies, both as source and as a referenced
        // assembly (the shortcut is for referenced types), beside every type of the usual references.
        const string library = """
            namespace @class { public class Plain { } }
            namespace record { public class Plain { } }
            namespace Named
            {
                public class @int { public class Plain { } }
                public class @var { }
                public class Outer { public class @float { } public class record { } public class Plain { } }
                public class Generic<T> { public class Inner { } }
                public enum Kind { A }
                public delegate void Callback();
                public struct Value { }
                public interface IThing { }
            }
            public class InTheGlobalNamespace { public class Nested { } }
            file class FileLocal { }
            """;
        var image = new System.IO.MemoryStream();
        Assert.True(GeneratorHarness.Compilation(library).WithAssemblyName("Library").Emit(image).Success);
        var compilation = GeneratorHarness.Compilation(library.Replace("namespace ", "namespace Source."))
            .AddReferences(MetadataReference.CreateFromImage(image.ToArray()));
        var types = new List<ITypeSymbol>();
        Collect(compilation.GlobalNamespace, types);
        INamedTypeSymbol tensor = compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor")!;
        INamedTypeSymbol list = compilation.GetTypeByMetadataName("System.Collections.Generic.IReadOnlyList`1")!;
        types.Add(compilation.CreateArrayTypeSymbol(tensor));
        types.Add(list.Construct(tensor));
        types.Add(compilation.CreateTupleTypeSymbol(ImmutableArrayOf<ITypeSymbol>(compilation.GetSpecialType(SpecialType.System_String), tensor)));
        types.Add(compilation.GetSpecialType(SpecialType.System_Nullable_T).Construct(compilation.GetSpecialType(SpecialType.System_Double)));

        int written = 0;
        var wrong = new List<string>();
        foreach (ITypeSymbol type in types)
        {
            foreach (NullableAnnotation annotation in s_annotations)
            {
                ITypeSymbol annotated = type.WithNullableAnnotation(annotation);
                foreach (SymbolDisplayFormat format in s_formats)
                {
                    string expected = annotated.ToDisplayString(format);
                    if (TypeNames.QualifiedName(annotated, format) is string name)
                    {
                        written++;
                        if (name != expected)
                        {
                            wrong.Add($"{expected} written as {name}");
                        }
                    }
                    Assert.Equal(expected, new TypeNames().Of(annotated, format));
                }
            }
        }
        Assert.Empty(wrong.Take(20));
        // The shortcut is taken for the types a loss names most: not a test that checks nothing.
        Assert.Equal("global::TorchSharp.torch.Tensor", TypeNames.QualifiedName(tensor, DeclarationReader.SignatureFormat));
        Assert.Equal("TorchSharp.torch.Tensor", TypeNames.QualifiedName(tensor.WithNullableAnnotation(NullableAnnotation.NotAnnotated), SymbolDisplayFormat.CSharpErrorMessageFormat));
        Assert.True(written > 10_000, $"only {written} names were written without the formatter");
    }

    private static System.Collections.Immutable.ImmutableArray<T> ImmutableArrayOf<T>(params T[] items) => System.Collections.Immutable.ImmutableArray.Create(items);

    private static void Collect(INamespaceOrTypeSymbol container, List<ITypeSymbol> types)
    {
        foreach (ISymbol member in container.GetMembers())
        {
            if (member is INamespaceOrTypeSymbol inner)
            {
                if (inner is ITypeSymbol type)
                {
                    types.Add(type);
                }
                Collect(inner, types);
            }
        }
    }
}
