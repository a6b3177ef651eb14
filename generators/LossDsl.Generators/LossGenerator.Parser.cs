using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using LossDsl.Generators.Binding;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace LossDsl.Generators;

// Syntax and symbols → LossTypeSpec. The only place that touches Roslyn's semantic model.
public sealed partial class LossGenerator
{
    internal const string LossAttributeName = "LossDsl.LossAttribute";
    internal const string TermAttributeName = "LossDsl.TermAttribute";
    private const string TensorTypeName = "TorchSharp.torch.Tensor";

    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>
    /// Builds the spec of the type that declares <paramref name="context"/>'s method. Every
    /// [Loss] method of a type is handled by the transform of the type's first one, so a type
    /// makes one spec and one file; the others return null.
    /// </summary>
    internal static LossTypeSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol target || target.ContainingType is not INamedTypeSymbol type)
        {
            return null;
        }
        var lossMethods = type.GetMembers().OfType<IMethodSymbol>()
            .Where(m => m.PartialImplementationPart is not null || m.PartialDefinitionPart is null)
            .Where(m => LossAttributeOf(m) is not null)
            .ToList();
        if (lossMethods.Count == 0 || !SymbolEqualityComparer.Default.Equals(lossMethods[0], target.PartialDefinitionPart ?? target))
        {
            return null;
        }

        var diagnostics = new List<DiagnosticInfo>();
        bool typesArePartial = CheckPartialTypes(type, lossMethods[0], diagnostics);
        var methods = new List<LossMethodSpec>();
        foreach (IMethodSymbol method in lossMethods)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LossMethodSpec? spec = ParseMethod(type, method, diagnostics, cancellationToken);
            if (spec is not null)
            {
                methods.Add(spec);
            }
        }

        string ns = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();
        return new LossTypeSpec(
            HintName(type),
            ns,
            ContainingTypes(type).ToEquatableArray(),
            // A method with errors is left out; nothing is generated into a type that is not partial.
            typesArePartial ? methods.ToEquatableArray() : EquatableArray<LossMethodSpec>.Empty,
            diagnostics.ToEquatableArray());
    }

    private static AttributeData? LossAttributeOf(IMethodSymbol method)
        => method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == LossAttributeName);

    private static bool CheckPartialTypes(INamedTypeSymbol type, IMethodSymbol firstLoss, List<DiagnosticInfo> diagnostics)
    {
        bool allPartial = true;
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            foreach (SyntaxReference reference in current.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax() is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNotPartial,
                        LocationInfo.From(declaration.Identifier.GetLocation()), current.Name, firstLoss.Name));
                    allPartial = false;
                }
            }
        }
        return allPartial;
    }

    private static LossMethodSpec? ParseMethod(INamedTypeSymbol type, IMethodSymbol method, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        IMethodSymbol definition = method.PartialDefinitionPart ?? method;
        var syntax = definition.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as MethodDeclarationSyntax;
        AttributeData? attribute = LossAttributeOf(method) ?? LossAttributeOf(definition);
        if (syntax is null || attribute is null)
        {
            return null;
        }
        LocationInfo? methodLocation = LocationInfo.From(syntax.Identifier.GetLocation());

        // Let the compiler report malformed attribute arguments.
        if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error ||
            attribute.NamedArguments.Any(n => n.Value.Kind == TypedConstantKind.Error))
        {
            return null;
        }

        int errorsBefore = diagnostics.Count;
        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword) || syntax.Body is not null || syntax.ExpressionBody is not null || method.PartialImplementationPart is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossMethodNotPartial, methodLocation, method.Name));
        }
        if (method.IsGenericMethod)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossMethodGeneric, methodLocation, method.Name));
        }
        ResultTypeSpec? result = null;
        string returnType;
        if (IsTensor(method.ReturnType))
        {
            returnType = "global::TorchSharp.torch.Tensor";
        }
        else if (method.ReturnType.TypeKind == TypeKind.Error && syntax.ReturnType is IdentifierNameSyntax name && method.ReturnType.ContainingType is null)
        {
            string ns = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString() + ".";
            result = new ResultTypeSpec(name.Identifier.ValueText, "global::" + ns + name.Identifier.ValueText);
            returnType = result.FullName;
        }
        else
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidReturnType,
                LocationInfo.From(syntax.ReturnType.GetLocation()), method.Name, syntax.ReturnType.ToString()));
            returnType = "";
        }

        string formula = attribute.ConstructorArguments[0].Value as string ?? "";
        string? prefix = null;
        bool checkFinite = false;
        foreach (var named in attribute.NamedArguments)
        {
            if (named.Key == "MetricsPrefix") prefix = named.Value.Value as string;
            if (named.Key == "CheckFinite") checkFinite = named.Value.Value is true;
        }
        StringLiteralMap map = FormulaMap(syntax, cancellationToken);
        SyntaxTree tree = syntax.SyntaxTree;
        LocationInfo Locate(FormulaSpan span)
        {
            TextSpan source = map.Map(span.Start, span.Length);
            return new LocationInfo(tree.FilePath, source, tree.GetLineSpan(source, cancellationToken).Span);
        }

        var (parsed, syntaxErrors) = FormulaParser.Parse(formula);
        foreach (FormulaError error in syntaxErrors)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FormulaSyntax, Locate(error.Span), error.Message));
        }
        if (syntaxErrors.Count > 0)
        {
            return null;
        }
        if (parsed.Bindings.Count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EmptyFormula, Locate(new FormulaSpan(0, formula.Length)), method.Name));
            return null;
        }

        LossDeclaration declaration = Declaration(type, method, prefix);
        BoundLoss bound = FormulaBinder.Bind(declaration, parsed, formula);
        foreach (BindError error in bound.Errors)
        {
            diagnostics.Add(new DiagnosticInfo(error.Descriptor.Id, Locate(error.Span), error.Arguments.ToEquatableArray()));
        }
        if (diagnostics.Count > errorsBefore)
        {
            return null;
        }

        var modifiers = syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text).ToList();
        modifiers.Add("partial");
        return new LossMethodSpec(
            method.Name,
            string.Join(" ", modifiers),
            returnType,
            method.Parameters.Select(p => new ParameterSpec(RefKindText(p.RefKind), p.Type.ToDisplayString(s_typeFormat), Naming.Identifier(p.Name))).ToEquatableArray(),
            result,
            formula,
            checkFinite,
            bound.Steps.ToEquatableArray(),
            bound.LossVariable,
            bound.ScopeVariable,
            bound.ResultVariable,
            bound.Members.ToEquatableArray(),
            bound.Explanation.ToEquatableArray());
    }

    /// <summary>The map from the formula's characters to the source, when the formula is written as a literal.</summary>
    private static StringLiteralMap FormulaMap(MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        foreach (AttributeSyntax attribute in method.AttributeLists.SelectMany(l => l.Attributes))
        {
            string name = attribute.Name.ToString();
            if (name is not ("Loss" or "LossAttribute") && !name.EndsWith(".Loss") && !name.EndsWith(".LossAttribute"))
            {
                continue;
            }
            AttributeArgumentSyntax? argument = attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null && a.NameColon is null)
                ?? attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameColon is not null);
            if (argument is null)
            {
                return StringLiteralMap.Whole(attribute.Span);
            }
            if (argument.Expression is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression))
            {
                return StringLiteralMap.Create(literal.Token.Text, literal.Token.SpanStart, literal.Token.ValueText);
            }
            return StringLiteralMap.Whole(argument.Expression.Span);
        }
        return StringLiteralMap.Whole(method.Identifier.Span);
    }

    private static LossDeclaration Declaration(INamedTypeSymbol type, IMethodSymbol method, string? prefix)
    {
        var terms = new Dictionary<string, TermInfo>();
        var members = new Dictionary<string, MemberInfo>();
        var otherMethods = new HashSet<string>();
        for (INamedTypeSymbol? current = type; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
        {
            bool inherited = !SymbolEqualityComparer.Default.Equals(current, type);
            foreach (ISymbol member in current.GetMembers())
            {
                if (member.IsImplicitlyDeclared || (inherited && member.DeclaredAccessibility == Accessibility.Private))
                {
                    continue;
                }
                switch (member)
                {
                    case IMethodSymbol m when m.MethodKind == MethodKind.Ordinary:
                        if (m.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == TermAttributeName))
                        {
                            if (!terms.ContainsKey(m.Name))
                            {
                                terms[m.Name] = new TermInfo(m.Name, m.IsStatic, m.IsGenericMethod, IsTensor(m.ReturnType),
                                    m.ReturnType.ToDisplayString(), m.Parameters.Select(Parameter).ToList());
                            }
                        }
                        else
                        {
                            otherMethods.Add(m.Name);
                        }
                        break;
                    case IFieldSymbol f when !members.ContainsKey(f.Name):
                        members[f.Name] = Member(f.Name, f.Type, f.IsStatic || f.IsConst);
                        break;
                    case IPropertySymbol p when !p.IsIndexer && p.GetMethod is not null && !members.ContainsKey(p.Name):
                        members[p.Name] = Member(p.Name, p.Type, p.IsStatic);
                        break;
                }
            }
        }
        return new LossDeclaration(type.Name, method.Name, method.IsStatic, method.Parameters.Select(Parameter).ToList(), terms, members, otherMethods, prefix);
    }

    private static ParameterInfo Parameter(IParameterSymbol p)
        => new(p.Name, p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), p.Type.ToDisplayString(), KindOf(p.Type), p.Type.SpecialType == SpecialType.System_Double);

    private static MemberInfo Member(string name, ITypeSymbol type, bool isStatic)
        => new(name, type.ToDisplayString(), KindOf(type), type.SpecialType == SpecialType.System_Double, isStatic);

    private static ValueKind KindOf(ITypeSymbol type) => type.SpecialType switch
    {
        SpecialType.System_Double or SpecialType.System_Single or SpecialType.System_Int32 or SpecialType.System_Int64 => ValueKind.Number,
        _ => IsTensor(type) ? ValueKind.Tensor : ValueKind.Other,
    };

    private static bool IsTensor(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat.WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.None)).TrimEnd('?') == TensorTypeName;

    private static string RefKindText(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In => "in ",
        _ => "",
    };

    private static IEnumerable<TypeDeclarationSpec> ContainingTypes(INamedTypeSymbol type)
    {
        var chain = new Stack<TypeDeclarationSpec>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            string keyword = current.IsRecord
                ? (current.TypeKind == TypeKind.Struct ? "record struct" : "record")
                : current.TypeKind switch { TypeKind.Struct => "struct", TypeKind.Interface => "interface", _ => "class" };
            string name = current.TypeParameters.Length == 0
                ? current.Name
                : $"{current.Name}<{string.Join(", ", current.TypeParameters.Select(t => t.Name))}>";
            chain.Push(new TypeDeclarationSpec(keyword, name));
        }
        return chain;
    }

    private static string HintName(INamedTypeSymbol type)
    {
        // Namespace.Outer.Inner, with generic arity kept apart so hint names stay unique and legal.
        string name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)
            .WithGenericsOptions(SymbolDisplayGenericsOptions.None));
        int arity = 0;
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType) arity += current.Arity;
        return (arity > 0 ? $"{name}`{arity}" : name) + ".LossDsl.g.cs";
    }
}
