using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LossDsl.Generators.Parsing;

/// <summary>Reads what a formula may name from the symbols of a loss type: terms, members and parameters.</summary>
internal static class DeclarationReader
{
    public const string LossAttributeName = "LossDsl.LossAttribute";

    /// <summary>Parameter types as the generated signature writes them: fully qualified, nullable annotations kept.</summary>
    public static readonly SymbolDisplayFormat SignatureFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Whether an attribute's name, as written, may mean [Loss] (before binding: Loss, LossAttribute, X.Loss).</summary>
    public static bool MayNameLossAttribute(NameSyntax name)
    {
        string last = name switch
        {
            QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
            AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
            SimpleNameSyntax simple => simple.Identifier.ValueText,
            _ => "",
        };
        return last is "Loss" or "LossAttribute";
    }

    /// <summary>
    /// Whether a <c>using LossDsl;</c> around <paramref name="node"/> (in its file or namespace)
    /// makes a [Loss] there LossDsl's: such attributes need no semantic look-up on every edit.
    /// </summary>
    public static bool ImportsLossDsl(SyntaxNode node)
    {
        for (SyntaxNode? current = node; current is not null; current = current.Parent)
        {
            SyntaxList<UsingDirectiveSyntax> usings = current switch
            {
                CompilationUnitSyntax unit => unit.Usings,
                BaseNamespaceDeclarationSyntax ns => ns.Usings,
                _ => default,
            };
            foreach (UsingDirectiveSyntax u in usings)
            {
                // Read from the tokens: formatting the name would allocate, for every attribute named Loss.
                if (u.Alias is null && u.StaticKeyword.IsKind(SyntaxKind.None) && u.Name switch
                    {
                        IdentifierNameSyntax name => name.Identifier.Text == "LossDsl",
                        AliasQualifiedNameSyntax { Name: IdentifierNameSyntax name } qualified => qualified.Alias.Identifier.IsKind(SyntaxKind.GlobalKeyword) && name.Identifier.Text == "LossDsl",
                        _ => false,
                    })
                {
                    return true;
                }
            }
        }
        return false;
    }

    public static AttributeData? LossAttributeOf(IMethodSymbol method)
        => method.GetAttributes().FirstOrDefault(a => IsNamed(a.AttributeClass, "LossDsl", "LossAttribute"));

    /// <summary>
    /// Whether <paramref name="type"/> is the non-generic, non-nested type <paramref name="name"/> of
    /// namespace <paramref name="ns"/> (dotted): compared by name, since formatting a type is slow
    /// and the transform runs on every edit.
    /// </summary>
    public static bool IsNamed(INamedTypeSymbol? type, string ns, string name)
    {
        if (type is null || type.Name != name || type.Arity != 0 || type.ContainingType is not null)
        {
            return false;
        }
        // The namespace's parts from the innermost out, matched against the dotted name's from its end.
        INamespaceSymbol? current = type.ContainingNamespace;
        int end = ns.Length;
        while (end > 0)
        {
            int start = ns.LastIndexOf('.', end - 1) + 1;
            if (current is null || current.IsGlobalNamespace || current.Name.Length != end - start
                || string.CompareOrdinal(current.Name, 0, ns, start, end - start) != 0)
            {
                return false;
            }
            current = current.ContainingNamespace;
            end = start - 1;
        }
        return current is { IsGlobalNamespace: true };
    }

    /// <summary>
    /// The [Term] methods of the type and its bases, each with what is wrong with its declaration
    /// (reported once, at the declaration, by <see cref="LossGenerator"/>); <paramref name="locations"/>
    /// says where each term declared in the type itself is, for the diagnostics about it.
    /// </summary>
    public static EquatableMap<TermInfo> Terms(INamedTypeSymbol type, IReadOnlyList<ISymbol> members, Compilation compilation, TypeNames names, out Dictionary<string, LocationInfo?> locations)
    {
        var terms = new Dictionary<string, TermInfo>();
        var order = new List<KeyValuePair<string, TermInfo>>();
        locations = new Dictionary<string, LocationInfo?>();
        foreach (IMethodSymbol method in members.OfType<IMethodSymbol>())
        {
            if (method.MethodKind != MethodKind.Ordinary || terms.ContainsKey(method.Name) ||
                !method.GetAttributes().Any(a => IsNamed(a.AttributeClass, "LossDsl", "TermAttribute")))
            {
                continue;
            }
            Receiver? receiver = Access(type, method, compilation, out string? unreachable);
            string? problem =
                !IsTensor(method.ReturnType) && !IsTensorList(method.ReturnType) ? $"must return TorchSharp's Tensor (or, one per element, Tensor[], IReadOnlyList<Tensor> or IReadOnlyList<(string Name, Tensor Value)>), but returns '{method.ReturnType.ToDisplayString()}'" :
                method.IsGenericMethod ? "must not be generic" :
                method.Parameters.FirstOrDefault(p => p.RefKind != RefKind.None) is IParameterSymbol byRef ? $"must take its parameters by value, but '{byRef.Name}' is {RefKindText(byRef.RefKind).Trim()}" :
                unreachable;
            bool declaredHere = SymbolEqualityComparer.Default.Equals(method.ContainingType, type);
            if (declaredHere)
            {
                // An ordinary method declared in source is located at its name (its declaration's identifier).
                locations[method.Name] = LocationInfo.From(method.Locations.FirstOrDefault());
            }
            var term = new TermInfo(
                method.Name,
                method.IsStatic,
                problem,
                method.Parameters.Select(p => Parameter(p, names)).ToEquatableArray(),
                declaredHere,
                receiver ?? Receiver.This)
            {
                Obsolete = ObsoleteOf(method),
                IsReadOnly = method.IsStatic || method.IsReadOnly,
                IsList = IsTensorList(method.ReturnType),
                IsNamedList = IsNamedTensorList(method.ReturnType),
            };
            terms[method.Name] = term;
            order.Add(new KeyValuePair<string, TermInfo>(method.Name, term));
        }
        return new EquatableMap<TermInfo>(order);
    }

    /// <summary>Everything around one [Loss] method.</summary>
    public static LossDeclaration Declaration(INamedTypeSymbol type, IMethodSymbol method, IReadOnlyList<ISymbol> members, EquatableMap<TermInfo> terms, string? prefix, Compilation compilation, TypeNames names)
    {
        var read = new Dictionary<string, MemberInfo>();
        var memberOrder = new List<string>();
        var otherMethods = new HashSet<string>();
        var otherMethodOrder = new List<string>();
        foreach (ISymbol member in members)
        {
            switch (member)
            {
                case IMethodSymbol m when m.MethodKind == MethodKind.Ordinary && !terms.ContainsKey(m.Name):
                    if (otherMethods.Add(m.Name))
                    {
                        otherMethodOrder.Add(m.Name);
                    }
                    break;
                case IFieldSymbol f when !read.ContainsKey(f.Name):
                    read[f.Name] = Member(type, f, f.Type, f.IsStatic || f.IsConst, compilation, ObsoleteOf(f));
                    memberOrder.Add(f.Name);
                    break;
                case IPropertySymbol p when !p.IsIndexer && p.GetMethod is not null && !read.ContainsKey(p.Name):
                    read[p.Name] = Member(type, p, p.Type, p.IsStatic, compilation, ObsoleteOf(p) ?? ObsoleteOf(p.GetMethod)) with { IsReadOnly = p.IsStatic || p.GetMethod.IsReadOnly };
                    memberOrder.Add(p.Name);
                    break;
            }
        }
        string? valueTypeKind = type.IsRecord ? (type.TypeKind == TypeKind.Struct ? "record struct" : "record")
            : type.TypeKind switch { TypeKind.Struct => "struct", TypeKind.Interface => "interface", _ => null };
        bool inObsoleteContext = ObsoleteOf(method) is not null;
        for (INamedTypeSymbol? current = type; current is not null && !inObsoleteContext; current = current.ContainingType)
        {
            inObsoleteContext = ObsoleteOf(current) is not null;
        }
        return new LossDeclaration(type.Name, method.Name, method.IsStatic, valueTypeKind, method.Parameters.Select(p => Parameter(p, names)).ToEquatableArray(), terms,
            new EquatableMap<MemberInfo>(memberOrder.Select(name => new KeyValuePair<string, MemberInfo>(name, read[name]))), otherMethodOrder.ToEquatableArray(), prefix)
        {
            InObsoleteContext = inObsoleteContext,
            IsReadOnly = method.IsReadOnly && !method.IsStatic,
        };
    }

    /// <summary>The symbol's <c>[System.Obsolete]</c>: its message, whether a use is an error, its diagnostic ID.</summary>
    private static ObsoleteInfo? ObsoleteOf(ISymbol? symbol)
    {
        AttributeData? obsolete = symbol?.GetAttributes().FirstOrDefault(a => IsNamed(a.AttributeClass, "System", "ObsoleteAttribute"));
        if (obsolete is null)
        {
            return null;
        }
        var arguments = obsolete.ConstructorArguments;
        return new ObsoleteInfo(
            arguments.Length > 0 ? arguments[0].Value as string ?? "" : "",
            arguments.Length > 1 && arguments[1].Value is true,
            obsolete.NamedArguments.FirstOrDefault(a => a.Key == "DiagnosticId").Value.Value as string);
    }

    /// <summary>
    /// Members of the type, then of its bases that the type can reach (not private, not internal to
    /// another assembly), nearest first: read once per [Loss] method, for its terms and its other members.
    /// </summary>
    public static IReadOnlyList<ISymbol> Members(INamedTypeSymbol type, Compilation compilation)
    {
        var members = new List<ISymbol>();
        for (INamedTypeSymbol? current = type; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
        {
            bool inherited = !SymbolEqualityComparer.Default.Equals(current, type);
            foreach (ISymbol member in current.GetMembers())
            {
                if (!member.IsImplicitlyDeclared && !(inherited && (member.DeclaredAccessibility == Accessibility.Private || !compilation.IsSymbolAccessibleWithin(member, type))))
                {
                    members.Add(member);
                }
            }
        }
        return members;
    }

    public static ParameterInfo Parameter(IParameterSymbol p, TypeNames names)
    {
        // As the compiler's flow analysis sees it: an oblivious parameter (nullable disabled) neither warns nor is warned about.
        bool allowNull = p.GetAttributes().Any(a => a.AttributeClass is { Name: "AllowNullAttribute", ContainingNamespace: { Name: "CodeAnalysis" } });
        bool mayBeNull = !p.Type.IsValueType && (p.Type.NullableAnnotation == NullableAnnotation.Annotated || allowNull);
        bool acceptsNull = p.Type.NullableAnnotation != NullableAnnotation.NotAnnotated || allowNull;
        return new(p.Name, names.Of(p.Type, SymbolDisplayFormat.FullyQualifiedFormat), names.Of(p.Type, SymbolDisplayFormat.CSharpErrorMessageFormat), KindOf(p.Type), p.Type.SpecialType == SpecialType.System_Double,
            mayBeNull, acceptsNull, p.IsOptional || p.HasExplicitDefaultValue || p.IsParams)
        {
            Shape = ShapeOf(p.Type),
        };
    }

    private static MemberInfo Member(INamedTypeSymbol lossType, ISymbol member, ITypeSymbol type, bool isStatic, Compilation compilation, ObsoleteInfo? obsolete)
    {
        // Formatting a type is slow and runs on every edit: only a member that is neither a
        // number nor a tensor needs its type written out, for the message that rejects it.
        ValueKind kind = KindOf(type);
        Receiver? receiver = Access(lossType, member, compilation, out string? unreachable);
        return new MemberInfo(member.Name, kind == ValueKind.Other ? type.ToDisplayString() : "", kind, type.SpecialType == SpecialType.System_Double, isStatic,
            receiver ?? Receiver.This, unreachable, obsolete)
        {
            Shape = ShapeOf(type),
        };
    }

    /// <summary>
    /// How code inside <paramref name="type"/> reaches <paramref name="member"/> (declared there or in
    /// a base type) so that the name binds to that very member, as the checker resolved it: through
    /// <c>this</c> or unqualified when nothing hides it, else through a cast to (or the name of) its
    /// declaring type, or <c>base</c>. Null, with the reason, when C# gives no way.
    /// </summary>
    private static Receiver? Access(INamedTypeSymbol type, ISymbol member, Compilation compilation, out string? unreachable)
    {
        unreachable = null;
        if (member.IsStatic && (member.IsAbstract || member.IsVirtual) && member.ContainingType.TypeKind == TypeKind.Interface)
        {
            unreachable = $"is a static {(member.IsAbstract ? "abstract" : "virtual")} interface member, which C# lets code reach only through a type parameter";
            return null;
        }
        INamedTypeSymbol declaring = member.ContainingType;
        var hiders = new List<ISymbol>();
        for (INamedTypeSymbol? current = type; current is not null && !SymbolEqualityComparer.Default.Equals(current, declaring); current = current.BaseType)
        {
            hiders.AddRange(current.GetMembers(member.Name).Where(m => !m.IsImplicitlyDeclared && !Overrides(m, member)));
        }
        if (hiders.Count == 0)
        {
            return member.IsStatic ? Receiver.Static : Receiver.This;
        }
        string declaringName = declaring.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        if (member.IsStatic)
        {
            return new Receiver(ReceiverKind.TypeName, declaringName);
        }
        if (compilation.IsSymbolAccessibleWithin(member, type, throughType: declaring))
        {
            return new Receiver(ReceiverKind.Cast, declaringName);
        }
        if (hiders.All(h => SymbolEqualityComparer.Default.Equals(h.ContainingType, type)))
        {
            return new Receiver(ReceiverKind.Base);
        }
        ISymbol hider = hiders[hiders.Count - 1];
        unreachable = $"of '{declaring.ToDisplayString()}' is hidden by '{hider.ContainingType.ToDisplayString()}.{hider.Name}' and is {(member.DeclaredAccessibility == Accessibility.ProtectedAndInternal ? "private protected" : "protected")}, " +
                      $"so the code generated into '{type.ToDisplayString()}' cannot reach it; rename one of them";
        return null;
    }

    /// <summary>Whether <paramref name="candidate"/> overrides <paramref name="member"/>, directly or through other overrides.</summary>
    private static bool Overrides(ISymbol candidate, ISymbol member)
    {
        for (ISymbol? current = candidate; current is not null; current = current switch
             {
                 IMethodSymbol m => m.OverriddenMethod,
                 IPropertySymbol p => p.OverriddenProperty,
                 _ => null,
             })
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, member.OriginalDefinition))
            {
                return true;
            }
        }
        return false;
    }

    private static ValueKind KindOf(ITypeSymbol type) => type.SpecialType switch
    {
        SpecialType.System_Double or SpecialType.System_Single or SpecialType.System_Int32 or SpecialType.System_Int64 => ValueKind.Number,
        _ => IsTensor(type) ? ValueKind.Tensor : ValueKind.Other,
    };

    /// <summary>
    /// What gradients can be taken on through a value of <paramref name="type"/>: a Tensor or a type
    /// derived from it (Parameter), a Module, or an enumerable of those tensors; null for anything else.
    /// </summary>
    public static ParameterShape? ShapeOf(ITypeSymbol type)
    {
        if (type.SpecialType != SpecialType.None || type.IsValueType)
        {
            return null;
        }
        if (IsTensorOrDerived(type))
        {
            return ParameterShape.Tensor;
        }
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (current is INamedTypeSymbol { Name: "Module", ContainingType: { Name: "nn", ContainingType: { Name: "torch", ContainingType: null } torch } }
                && torch.ContainingNamespace is { Name: "TorchSharp", ContainingNamespace.IsGlobalNamespace: true })
            {
                return ParameterShape.Module;
            }
        }
        var interfaces = type is INamedTypeSymbol { TypeKind: TypeKind.Interface } self ? type.AllInterfaces.Add(self) : type.AllInterfaces;
        return interfaces.Any(i => i is { Name: "IEnumerable", Arity: 1 } && i.ContainingNamespace.ToDisplayString() == "System.Collections.Generic" && IsTensorOrDerived(i.TypeArguments[0]))
            ? ParameterShape.Enumerable
            : null;
    }

    private static bool IsTensorOrDerived(ITypeSymbol type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (IsTensor(current))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>TorchSharp.torch.Tensor, with or without a nullable annotation; compared by name, not by formatting.</summary>
    public static bool IsTensor(ITypeSymbol type)
        => type is INamedTypeSymbol { Name: "Tensor", ContainingType: { Name: "torch", ContainingType: null } torch }
           && torch.ContainingNamespace is { Name: "TorchSharp", ContainingNamespace.IsGlobalNamespace: true };

    /// <summary>What a list term returns: <c>Tensor[]</c>, <c>IReadOnlyList&lt;Tensor&gt;</c> or a named list (<see cref="IsNamedTensorList"/>), nullable annotations ignored.</summary>
    public static bool IsTensorList(ITypeSymbol type) => type switch
    {
        IArrayTypeSymbol { Rank: 1 } array => IsTensor(array.ElementType),
        INamedTypeSymbol { Name: "IReadOnlyList", Arity: 1 } list
            => list.ContainingNamespace.ToDisplayString() == "System.Collections.Generic" && (IsTensor(list.TypeArguments[0]) || IsNamedTensorList(type)),
        _ => false,
    };

    /// <summary>A list term whose elements are named: <c>IReadOnlyList&lt;(string Name, Tensor Value)&gt;</c> (the tuple's field names do not matter).</summary>
    public static bool IsNamedTensorList(ITypeSymbol type)
        => type is INamedTypeSymbol { Name: "IReadOnlyList", Arity: 1 } list
           && list.ContainingNamespace.ToDisplayString() == "System.Collections.Generic"
           && list.TypeArguments[0] is INamedTypeSymbol { IsTupleType: true, TupleElements.Length: 2 } tuple
           && tuple.TupleElements[0].Type.SpecialType == SpecialType.System_String
           && IsTensor(tuple.TupleElements[1].Type);

    public static string RefKindText(RefKind kind) => kind switch
    {
        RefKind.None => "",
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In => "in ",
        _ => "ref readonly ", // C# 12's ref readonly parameters, unknown to the Roslyn this is built against
    };

    /// <summary>The loss type and the types around it, outermost first.</summary>
    public static IEnumerable<TypeDeclarationSpec> ContainingTypes(INamedTypeSymbol type)
    {
        var chain = new Stack<TypeDeclarationSpec>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            string keyword = current.IsRecord
                ? (current.TypeKind == TypeKind.Struct ? "record struct" : "record")
                : current.TypeKind switch { TypeKind.Struct => "struct", TypeKind.Interface => "interface", _ => "class" };
            string name = Naming.Identifier(current.Name);
            // Partial declarations of a variant interface repeat the variance; a cref does not take it.
            string Parameters(bool variance) => current.TypeParameters.Length == 0 ? "" : $"<{string.Join(", ", current.TypeParameters.Select(t =>
                (variance ? t.Variance switch { VarianceKind.Out => "out ", VarianceKind.In => "in ", _ => "" } : "") + Naming.Identifier(t.Name)))}>";
            chain.Push(new TypeDeclarationSpec(keyword, name + Parameters(variance: true), name + Parameters(variance: false)));
        }
        return chain;
    }

    /// <summary>
    /// Why LossDsl cannot generate a result type named <paramref name="name"/> beside <paramref name="type"/>,
    /// or null: a contextual keyword that C# forbids (or warns against) as a type name, or would
    /// break in generated code, or the name of a namespace that the type would hide.
    /// </summary>
    public static string? ResultNameProblem(INamedTypeSymbol type, string name, Compilation compilation)
    {
        if (name is "scoped" or "required" or "file" or "record" or "var" or "partial" or "extension")
        {
            return "a contextual keyword of C#, which cannot name a type";
        }
        // The compilation's namespaces, which hold the referenced assemblies' namespaces too (System, TorchSharp, ...).
        for (INamespaceSymbol? ns = type.ContainingNamespace; ns is not null; ns = ns.ContainingNamespace)
        {
            if (compilation.GetCompilationNamespace(ns)?.GetMembers(name).OfType<INamespaceSymbol>().FirstOrDefault() is INamespaceSymbol hidden)
            {
                string where = type.ContainingNamespace.IsGlobalNamespace ? "the global namespace" : $"'{type.ContainingNamespace.ToDisplayString()}'";
                return $"the name of the namespace '{hidden.ToDisplayString()}', which a type of that name in {where} would hide from the code there";
            }
        }
        return null;
    }

    /// <summary>
    /// Namespace.Outer`1.Inner (the file is that plus .LossDsl.g.cs): each level keeps its own
    /// generic arity, and names are written without their '@' (legal in a file name). Two types
    /// can still share a hint (N.A.B nested, and B in namespace N.A; or names that differ only by
    /// case): the file names are made unique when the types are collected.
    /// </summary>
    public static string HintName(INamedTypeSymbol type)
    {
        var levels = new Stack<string>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            levels.Push(current.Arity > 0 ? $"{current.Name}`{current.Arity}" : current.Name);
        }
        return string.Join(".", NamespaceParts(type).Concat(levels));
    }

    /// <summary>The type's identity, unique in the compilation: namespace, then each nesting level with its arity.</summary>
    public static string TypeKey(INamedTypeSymbol type)
    {
        var levels = new Stack<string>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            levels.Push($"{current.Name}`{current.Arity}");
        }
        return string.Join(".", NamespaceParts(type)) + "::" + string.Join("+", levels);
    }

    private static IEnumerable<string> NamespaceParts(INamedTypeSymbol type)
    {
        var parts = new Stack<string>();
        for (INamespaceSymbol? ns = type.ContainingNamespace; ns is not null && !ns.IsGlobalNamespace; ns = ns.ContainingNamespace)
        {
            parts.Push(ns.Name);
        }
        return parts;
    }
}

/// <summary>
/// Types formatted once per [Loss] method read: formatting is slow, the transform runs on every
/// edit, and the parameters of a loss and its terms name the same few types over and over. A
/// type from a referenced assembly that is written as its qualified name alone (the common case:
/// TorchSharp's Tensor) is written here, without Roslyn's formatter (<see cref="QualifiedName"/>).
/// </summary>
internal sealed class TypeNames
{
    private readonly Dictionary<SymbolDisplayFormat, Dictionary<ITypeSymbol, string>> _names = new();

    /// <summary><paramref name="type"/> as <paramref name="format"/> writes it (nullable annotations distinguish types here).</summary>
    public string Of(ITypeSymbol type, SymbolDisplayFormat format)
    {
        if (!_names.TryGetValue(format, out Dictionary<ITypeSymbol, string>? names))
        {
            _names[format] = names = new Dictionary<ITypeSymbol, string>(SymbolEqualityComparer.IncludeNullability);
        }
        if (!names.TryGetValue(type, out string? name))
        {
            names[type] = name = QualifiedName(type, format) ?? type.ToDisplayString(format);
        }
        return name;
    }

    /// <summary>
    /// What <see cref="ISymbol.ToDisplayString(SymbolDisplayFormat)"/> writes for <paramref name="type"/>
    /// in the three formats the generator uses (fully qualified, <see cref="DeclarationReader.SignatureFormat"/>,
    /// the compiler's messages), for the types whose display is their namespaces, containing types
    /// and name joined by dots (with <c>global::</c> in front in the fully qualified formats): a
    /// class, struct, interface, enum or delegate from a referenced assembly, not generic and
    /// nested in no generic type, neither it nor a type around it a special type (those are
    /// written as keywords: <c>decimal.DecCalc</c>), without a
    /// nullable annotation, every name an identifier that is no keyword (those would be escaped).
    /// Null for every other type or format, which Roslyn formats.
    /// </summary>
    internal static string? QualifiedName(ITypeSymbol type, SymbolDisplayFormat format)
    {
        bool global = format == SymbolDisplayFormat.FullyQualifiedFormat || format == DeclarationReader.SignatureFormat;
        if ((!global && format != SymbolDisplayFormat.CSharpErrorMessageFormat)
            || type is not INamedTypeSymbol named || type.SpecialType != SpecialType.None || type.NullableAnnotation == NullableAnnotation.Annotated
            || named.IsTupleType || type.TypeKind is not (TypeKind.Class or TypeKind.Struct or TypeKind.Interface or TypeKind.Enum or TypeKind.Delegate)
            || type.Locations.Any(l => !l.IsInMetadata))
        {
            return null;
        }
        var parts = new Stack<string>();
        for (INamedTypeSymbol? current = named; current is not null; current = current.ContainingType)
        {
            if (current.Arity != 0 || current.SpecialType != SpecialType.None || !IsPlainIdentifier(current.Name))
            {
                return null;
            }
            parts.Push(current.Name);
        }
        for (INamespaceSymbol? ns = named.ContainingNamespace; ns is not null && !ns.IsGlobalNamespace; ns = ns.ContainingNamespace)
        {
            if (!IsPlainIdentifier(ns.Name))
            {
                return null;
            }
            parts.Push(ns.Name);
        }
        return (global ? "global::" : "") + string.Join(".", parts);
    }

    /// <summary>An identifier that no format escapes: not a keyword, not even a contextual one.</summary>
    private static bool IsPlainIdentifier(string name)
        => SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None && SyntaxFacts.GetContextualKeywordKind(name) == SyntaxKind.None;
}
