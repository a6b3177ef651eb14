using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LossDsl.Generators.Binding;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using LossDsl.Generators.Parsing;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace LossDsl.Generators;

// Syntax and symbols → LossTypeSpec: the declarations are checked, each formula parsed and bound.
// The only place that touches Roslyn's semantic model.
public sealed partial class LossGenerator
{
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
            .Where(m => DeclarationReader.LossAttributeOf(m) is not null)
            .ToList();
        if (lossMethods.Count == 0 || !SymbolEqualityComparer.Default.Equals(lossMethods[0], target.PartialDefinitionPart ?? target))
        {
            return null;
        }

        var diagnostics = new List<DiagnosticInfo>();
        bool typesArePartial = CheckPartialTypes(type, lossMethods[0], diagnostics);
        Compilation compilation = context.SemanticModel.Compilation;
        Dictionary<string, TermInfo> terms = DeclarationReader.Terms(type, compilation);
        foreach (TermInfo term in terms.Values.Where(t => t.Problem is not null && t.DeclaredInLossType))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTerm, term.Location, term.Name, term.Problem!));
        }

        var methods = new List<LossMethodSpec>();
        var usedTerms = new HashSet<string>();
        var resultOwners = new Dictionary<string, string>();
        bool allBound = true;
        foreach (IMethodSymbol method in lossMethods)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool overloaded = lossMethods.TakeWhile(m => !SymbolEqualityComparer.Default.Equals(m, method)).Any(m => m.Name == method.Name);
            LossMethodSpec? spec = ParseMethod(type, method, terms, diagnostics, usedTerms, compilation, overloaded, cancellationToken);
            allBound &= spec is not null;
            if (spec?.Result is ResultTypeSpec result && resultOwners.TryGetValue(result.Name, out string? owner))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateResultType, ReturnTypeLocation(method), method.Name, result.Name, owner));
                continue;
            }
            if (spec is not null)
            {
                methods.Add(spec);
                if (spec.Result is not null)
                {
                    resultOwners[spec.Result.Name] = method.Name;
                }
            }
        }

        // Unused terms are reported only when every formula bound: a broken one may be what uses them.
        if (allBound)
        {
            foreach (TermInfo term in terms.Values.Where(t => t.DeclaredInLossType && t.Problem is null && !usedTerms.Contains(t.Name)))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnusedTerm, term.Location, term.Name, type.Name));
            }
        }

        string ns = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();
        return new LossTypeSpec(
            DeclarationReader.HintName(type),
            ns,
            DeclarationReader.ContainingTypes(type).ToEquatableArray(),
            // A method with errors is left out; nothing is generated into a type that is not partial.
            typesArePartial ? methods.ToEquatableArray() : EquatableArray<LossMethodSpec>.Empty,
            diagnostics.ToEquatableArray());
    }

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

    private static LossMethodSpec? ParseMethod(
        INamedTypeSymbol type,
        IMethodSymbol method,
        IReadOnlyDictionary<string, TermInfo> terms,
        List<DiagnosticInfo> diagnostics,
        HashSet<string> usedTerms,
        Compilation compilation,
        bool overloaded,
        CancellationToken cancellationToken)
    {
        IMethodSymbol definition = method.PartialDefinitionPart ?? method;
        var syntax = definition.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as MethodDeclarationSyntax;
        AttributeData? attribute = DeclarationReader.LossAttributeOf(method) ?? DeclarationReader.LossAttributeOf(definition);
        if (syntax is null || attribute is null)
        {
            return null;
        }

        // Let the compiler report malformed attribute arguments.
        if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error ||
            attribute.NamedArguments.Any(n => n.Value.Kind == TypedConstantKind.Error))
        {
            return null;
        }

        bool signatureIsValid = CheckSignature(type, method, syntax, diagnostics, out string returnType, out ResultTypeSpec? result);
        signatureIsValid &= CheckGeneratedName(type, method, syntax, method.Name + "Explanation", "its explanation text", overloaded, diagnostics);

        string formula = attribute.ConstructorArguments[0].Value as string ?? "";
        string? prefix = null;
        bool checkFinite = false;
        foreach (var named in attribute.NamedArguments)
        {
            if (named.Key == "MetricsPrefix") prefix = named.Value.Value as string;
            if (named.Key == "CheckFinite") checkFinite = named.Value.Value is true;
        }
        StringLiteralMap map = FormulaMap(syntax);
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

        LossDeclaration declaration = DeclarationReader.Declaration(type, method, terms, prefix, compilation) with { ResultTypeName = result?.Name };
        BoundLoss bound = FormulaBinder.Bind(declaration, parsed, formula);
        if (bound.State is not null)
        {
            signatureIsValid &= CheckGeneratedName(type, method, syntax, bound.State.Property, "its state", overloaded: false, diagnostics);
        }
        foreach (BindError error in bound.Errors)
        {
            diagnostics.Add(new DiagnosticInfo(error.Descriptor.Id, Locate(error.Span), error.Arguments.ToEquatableArray()));
        }
        usedTerms.UnionWith(bound.UsedTerms);
        if (bound.Failed || !signatureIsValid)
        {
            return null;
        }

        foreach (IParameterSymbol parameter in method.Parameters.Where(p => !bound.UsedParameters.Contains(p.Name)))
        {
            var parameterSyntax = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as ParameterSyntax;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnusedParameter,
                LocationInfo.From(parameterSyntax?.Identifier.GetLocation()), parameter.Name, method.Name));
        }

        var modifiers = syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text).ToList();
        modifiers.Add("partial");
        return new LossMethodSpec(
            method.Name,
            string.Join(" ", modifiers),
            returnType,
            method.Parameters.Select(p => new ParameterSpec(p.IsParams ? "params " : "", p.Type.ToDisplayString(DeclarationReader.SignatureFormat), Naming.Identifier(p.Name))).ToEquatableArray(),
            result,
            formula,
            checkFinite,
            bound.Steps.ToEquatableArray(),
            bound.LossVariable,
            bound.ScopeVariable,
            bound.ResultVariable,
            bound.Members.ToEquatableArray(),
            bound.Explanation.ToEquatableArray(),
            bound.State);
    }

    /// <summary>Checks the [Loss] method's declaration; false when nothing can be generated for it.</summary>
    private static bool CheckSignature(
        INamedTypeSymbol type, IMethodSymbol method, MethodDeclarationSyntax syntax, List<DiagnosticInfo> diagnostics,
        out string returnType, out ResultTypeSpec? result)
    {
        int before = diagnostics.Count;
        LocationInfo? name = LocationInfo.From(syntax.Identifier.GetLocation());
        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword) || syntax.Body is not null || syntax.ExpressionBody is not null || method.PartialImplementationPart is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossMethodNotPartial, name, method.Name));
        }
        if (method.IsGenericMethod)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossMethodGeneric, name, method.Name));
        }
        foreach (IParameterSymbol parameter in method.Parameters.Where(p => p.RefKind != RefKind.None))
        {
            var parameterSyntax = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() as ParameterSyntax;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossParameterByReference,
                LocationInfo.From(parameterSyntax?.Identifier.GetLocation()), parameter.Name, method.Name, DeclarationReader.RefKindText(parameter.RefKind).Trim()));
        }

        result = null;
        if (DeclarationReader.IsTensor(method.ReturnType))
        {
            returnType = "global::TorchSharp.torch.Tensor";
        }
        else if (method.ReturnType.TypeKind == TypeKind.Error && syntax.ReturnType is IdentifierNameSyntax identifier && method.ReturnType.ContainingType is null)
        {
            // The result type does not exist yet: LossDsl generates it beside the loss type.
            string ns = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString() + ".";
            string resultName = Naming.Identifier(identifier.Identifier.ValueText);
            result = new ResultTypeSpec(resultName, "global::" + ns + resultName);
            returnType = result.FullName;
        }
        else
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidReturnType,
                LocationInfo.From(syntax.ReturnType.GetLocation()), method.Name, syntax.ReturnType.ToString()));
            returnType = "";
        }
        return diagnostics.Count == before;
    }

    /// <summary>The member LossDsl adds for a [Loss] method must not exist already (or be another overload's).</summary>
    private static bool CheckGeneratedName(INamedTypeSymbol type, IMethodSymbol method, MethodDeclarationSyntax syntax, string name, string purpose, bool overloaded, List<DiagnosticInfo> diagnostics)
    {
        string? holder = overloaded ? $"another [Loss] method named '{method.Name}'" : type.GetMembers(name).Any() ? $"'{type.Name}'" : null;
        if (holder is null)
        {
            return true;
        }
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GeneratedNameTaken, LocationInfo.From(syntax.Identifier.GetLocation()), method.Name, name, purpose, holder));
        return false;
    }

    private static LocationInfo? ReturnTypeLocation(IMethodSymbol method)
        => LocationInfo.From(((method.PartialDefinitionPart ?? method).DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() as MethodDeclarationSyntax)?.ReturnType.GetLocation());

    /// <summary>The map from the formula's characters to the source, when the formula is written as a literal.</summary>
    private static StringLiteralMap FormulaMap(MethodDeclarationSyntax method)
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
}
