using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LossDsl.Generators.Checking;
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

// Syntax and symbols → one LossMethodInput per [Loss] method: the declaration is checked, and
// what compiling the formula needs is read into plain values (LossGenerator.Formula.cs compiles
// it in a step of its own). The only place that touches Roslyn's semantic model.
public sealed partial class LossGenerator
{
    internal static LossMethodInput? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.Attributes.IsEmpty)
        {
            return null;
        }
        if (context.TargetNode is not MethodDeclarationSyntax syntax)
        {
            return NotAMethod(context, cancellationToken);
        }
        if (context.TargetSymbol is not IMethodSymbol method || method.ContainingType is not INamedTypeSymbol type)
        {
            return null;
        }
        return new MethodReader(type, method, syntax, context.Attributes[0], context.SemanticModel.Compilation, cancellationToken).Read(foreignAttribute: null);
    }

    /// <summary>
    /// [Loss] on an operator, accessor, constructor, finalizer, local function or lambda: LD0012 at
    /// the attribute, and nothing to generate. Its formula may be the one meant to use the type's
    /// terms, so the report counts as unbound (no LD0203 for the type while it stands).
    /// </summary>
    private static LossMethodInput? NotAMethod(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        SyntaxNode node = context.TargetNode;
        if (node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is not TypeDeclarationSyntax typeSyntax
            || context.SemanticModel.GetDeclaredSymbol(typeSyntax, cancellationToken) is not INamedTypeSymbol type
            || context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax attribute)
        {
            return null;
        }
        string kind = node switch
        {
            OperatorDeclarationSyntax => "the operator",
            ConversionOperatorDeclarationSyntax => "the conversion operator",
            ConstructorDeclarationSyntax => "the constructor",
            DestructorDeclarationSyntax => "the finalizer",
            AccessorDeclarationSyntax => "the accessor",
            LocalFunctionStatementSyntax => "the local function",
            _ => "the lambda",
        };
        string name = node is AnonymousFunctionExpressionSyntax lambda
            ? (lambda is ParenthesizedLambdaExpressionSyntax parenthesized ? parenthesized.ParameterList.ToString() : "") + " => …"
            : context.TargetSymbol?.ToDisplayString() ?? node.ToString();
        var diagnostic = DiagnosticInfo.Create(DiagnosticDescriptors.LossOnNonMethod, LocationInfo.From(attribute.Name.GetLocation()), kind, name);
        string typeKey = DeclarationReader.TypeKey(type);
        string ns = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();
        var model = new LossMethodModel(typeKey, DeclarationReader.HintName(type), ns, DeclarationReader.ContainingTypes(type).ToEquatableArray(), TypeTakesCode: false, Method: null);
        var report = new LossMethodReport(typeKey, type.Name, name, new[] { diagnostic }.ToEquatableArray(), EquatableArray<DiagnosticInfo>.Empty,
            EquatableArray<TermDeclaration>.Empty, EquatableArray<string>.Empty, Bound: false, ResultTypeFullName: null, ResultTypeLocation: null);
        return new LossMethodInput(new LossMethodResult(model, report), Formula: null);
    }

    /// <summary>Reads one [Loss] method; collects its diagnostics as it goes.</summary>
    private sealed class MethodReader(
        INamedTypeSymbol type, IMethodSymbol method, MethodDeclarationSyntax syntax, AttributeData attribute, Compilation compilation, CancellationToken cancellationToken)
    {
        private readonly List<DiagnosticInfo> _diagnostics = new();
        private readonly List<DiagnosticInfo> _typeDiagnostics = new();
        private readonly string _hintName = DeclarationReader.HintName(type);
        private readonly string _typeKey = DeclarationReader.TypeKey(type);
        private readonly string _namespace = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();
        private readonly TypeNames _typeNames = new();
        // The return type cannot be written in generated code (LD0013): nothing implements the method.
        private bool _signatureUnwritable;

        public LossMethodInput Read(string? foreignAttribute)
        {
            bool typeTakesCode = CheckType();
            IReadOnlyList<ISymbol> members = DeclarationReader.Members(type, compilation);
            EquatableMap<TermInfo> terms = DeclarationReader.Terms(type, members, compilation, _typeNames, out Dictionary<string, LocationInfo?> termLocations);
            foreach (TermInfo term in terms.Values.Where(t => t.Problem is not null && t.DeclaredInLossType))
            {
                _typeDiagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTerm, termLocations[term.Name], term.Name, term.Problem!));
            }
            var declaredTerms = terms.Values.Where(t => t.DeclaredInLossType && t.Problem is null).Select(t => new TermDeclaration(t.Name, termLocations[t.Name])).ToEquatableArray();

            // A compiled copy of earlier generated code implements the method already: nothing to read.
            string? copy = CompiledCopy();
            LossMethodSpec? spec = null;
            PendingFormula? formula = null;
            if (copy is not null)
            {
                typeTakesCode = false;
                string root = System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(copy) ?? "") ?? "") ?? "";
                _typeDiagnostics.Clear();
                // At the type, so a type with several [Loss] methods gets one error.
                Location at = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<TypeDeclarationSyntax>()
                    .FirstOrDefault(d => d.SyntaxTree.FilePath != copy)?.Identifier.GetLocation() ?? syntax.Identifier.GetLocation();
                _typeDiagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GeneratedCodeCompiled, LocationInfo.From(at),
                    copy, type.Name, System.IO.Path.GetFileName(root)));
            }
            else if (foreignAttribute is not null)
            {
                spec = ForeignAttributeStub(foreignAttribute);
            }
            else
            {
                (spec, formula) = ReadMethod(members, terms);
            }

            var model = new LossMethodModel(_typeKey, _hintName, _namespace, DeclarationReader.ContainingTypes(type).ToEquatableArray(), typeTakesCode, spec, copy is not null);
            // The formula step fills in the method, its diagnostics, the terms it uses and whether it bound.
            var report = new LossMethodReport(
                _typeKey, type.Name, method.Name,
                _diagnostics.ToEquatableArray(), _typeDiagnostics.ToEquatableArray(), declaredTerms,
                EquatableArray<string>.Empty,
                Bound: false,
                (spec?.Result ?? formula?.Input.Result)?.FullName,
                LocationInfo.From(syntax.ReturnType.GetLocation()));
            return new LossMethodInput(new LossMethodResult(model, report), formula);
        }


        /// <summary>Whether code can be generated into the type (and its containers); reports why not.</summary>
        private bool CheckType()
        {
            bool takesCode = true;
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                foreach (SyntaxReference reference in current.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax declaration)
                    {
                        continue;
                    }
                    if (declaration.Modifiers.Any(m => m.ValueText == "file"))
                    {
                        _typeDiagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FileLocalLossType,
                            LocationInfo.From(declaration.Identifier.GetLocation()), current.Name, method.Name));
                        takesCode = false;
                    }
                    else if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                    {
                        _typeDiagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNotPartial,
                            LocationInfo.From(declaration.Identifier.GetLocation()), current.Name, method.Name));
                        takesCode = false;
                    }
                }
            }
            return takesCode;
        }

        /// <summary>The path of a copy of LossDsl's output that implements this method, when one is compiled as source.</summary>
        private string? CompiledCopy()
        {
            IMethodSymbol? implementation = (method.PartialDefinitionPart ?? method).PartialImplementationPart;
            if (implementation is null || !implementation.GetAttributes().Any(a =>
                    DeclarationReader.IsNamed(a.AttributeClass, "System.CodeDom.Compiler", "GeneratedCodeAttribute")
                    && a.ConstructorArguments.Length > 0 && a.ConstructorArguments[0].Value as string == "LossDsl"))
            {
                return null;
            }
            return implementation.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree.FilePath;
        }

        /// <summary>
        /// The method's declaration, checked: either a spec decided here (none when the user
        /// implements the method, a stub when the attribute has errors), or the formula to compile.
        /// </summary>
        private (LossMethodSpec? Spec, PendingFormula? Formula) ReadMethod(IReadOnlyList<ISymbol> members, EquatableMap<TermInfo> terms)
        {
            // A method with a body (or no 'partial', or an implementation part of the user's own) is
            // implemented by the user: nothing to generate.
            if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword) || syntax.Body is not null || syntax.ExpressionBody is not null
                || (method.PartialDefinitionPart ?? method).PartialImplementationPart is not null)
            {
                Report(DiagnosticDescriptors.LossMethodNotPartial, syntax.Identifier.GetLocation(), method.Name);
                return (null, null);
            }
            CheckSignature(out ResultTypeSpec? result, out MethodSignatureSpec signature);
            CheckGeneratedName(method.Name + "Explanation", "its explanation text", checkOverloads: true);

            // Malformed attribute arguments are the compiler's to report; the method gets a stub.
            if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error
                || attribute.NamedArguments.Any(n => n.Value.Kind == TypedConstantKind.Error))
            {
                return (Stub(signature, result, "its [Loss] attribute has errors"), null);
            }

            string formula = attribute.ConstructorArguments[0].Value as string ?? "";
            string? prefix = null;
            bool checkFinite = false;
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "MetricsPrefix") prefix = named.Value.Value as string;
                if (named.Key == "CheckFinite") checkFinite = named.Value.Value is true;
            }
            LossDeclaration declaration = DeclarationReader.Declaration(type, method, members, terms, prefix, compilation, _typeNames) with { ResultTypeName = result?.Name };
            // Whether the names a formula with state takes are free is decided here, where the symbols are.
            string stateName = method.Name + "State", stateField = "__lossDsl" + method.Name + "State";
            var input = new FormulaInput(
                formula, checkFinite, declaration, signature, result, Implemented,
                _diagnostics.Count > 0, ErrorMessages(_diagnostics).ToEquatableArray(),
                new GeneratedName(stateName, GeneratedNameHolder(stateName, checkOverloads: false)),
                new GeneratedName(stateField, GeneratedNameHolder(stateField, checkOverloads: false)));
            return (null, new PendingFormula(input, Positions()));
        }

        /// <summary>A stub for a method whose [Loss] is some other attribute (a missing <c>using LossDsl;</c>).</summary>
        private LossMethodSpec? ForeignAttributeStub(string foreignAttribute)
        {
            if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword) || syntax.Body is not null || syntax.ExpressionBody is not null
                || (method.PartialDefinitionPart ?? method).PartialImplementationPart is not null)
            {
                return null;
            }
            CheckSignature(out ResultTypeSpec? result, out MethodSignatureSpec signature);
            _diagnostics.Clear();
            AttributeSyntax? written = syntax.AttributeLists.SelectMany(l => l.Attributes).FirstOrDefault(a => DeclarationReader.MayNameLossAttribute(a.Name));
            Report(DiagnosticDescriptors.ForeignLossAttribute, written?.Name.GetLocation() ?? syntax.Identifier.GetLocation(),
                written?.Name.ToString() ?? "Loss", method.Name, foreignAttribute);
            return Stub(signature, result, reason: null);
        }

        /// <summary>C# forbids an implementation of a value-returning partial method declared without accessibility (CS8796).</summary>
        private bool Implemented
            => !_signatureUnwritable && syntax.Modifiers.Any(m => m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) || m.IsKind(SyntaxKind.PrivateKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword));

        /// <summary>A stub for a method whose declaration or attribute has errors (there are no bindings to give its result).</summary>
        private LossMethodSpec Stub(MethodSignatureSpec signature, ResultTypeSpec? result, string? reason)
            => LossGenerator.Stub(type.Name, method.Name, signature, result, Implemented, ErrorMessages(_diagnostics).ToList(), Array.Empty<BindingSyntax>(), reason);

        /// <summary>Checks the [Loss] method's declaration; false when only a stub can be generated for it.</summary>
        private bool CheckSignature(out ResultTypeSpec? result, out MethodSignatureSpec signature)
        {
            int before = _diagnostics.Count;
            if (method.IsGenericMethod)
            {
                Report(DiagnosticDescriptors.LossMethodGeneric, syntax.Identifier.GetLocation(), method.Name);
            }
            for (int i = 0; i < method.Parameters.Length; i++)
            {
                IParameterSymbol parameter = method.Parameters[i];
                if (parameter.RefKind != RefKind.None)
                {
                    Report(DiagnosticDescriptors.LossParameterByReference, ParameterSyntaxAt(i)?.Identifier.GetLocation(),
                        parameter.Name, method.Name, DeclarationReader.RefKindText(parameter.RefKind).Trim());
                }
            }

            result = null;
            string returnType;
            string refKind = syntax.ReturnType is RefTypeSyntax refType ? (refType.ReadOnlyKeyword.IsKind(SyntaxKind.None) ? "ref " : "ref readonly ") : "";
            if (refKind.Length == 0 && DeclarationReader.IsTensor(method.ReturnType))
            {
                // As declared: Tensor? stays Tensor?, or the two parts' signatures differ (CS8826).
                returnType = method.ReturnType.ToDisplayString(DeclarationReader.SignatureFormat);
            }
            else if (refKind.Length == 0 && method.ReturnType.TypeKind == TypeKind.Error && syntax.ReturnType is IdentifierNameSyntax identifier && method.ReturnType.ContainingType is null)
            {
                string resultName = Naming.Identifier(identifier.Identifier.ValueText);
                returnType = "global::" + (_namespace.Length == 0 ? "" : _namespace + ".") + resultName;
                if (DeclarationReader.ResultNameProblem(type, identifier.Identifier.ValueText, compilation) is string problem)
                {
                    Report(DiagnosticDescriptors.ResultTypeNameUnusable, syntax.ReturnType.GetLocation(), method.Name, identifier.Identifier.ValueText, problem);
                    _signatureUnwritable = true;
                }
                else
                {
                    // The result type does not exist yet: LossDsl generates it beside the loss type.
                    result = new ResultTypeSpec(resultName, returnType);
                }
            }
            else
            {
                // A ref return (the loss is a new tensor: there is no variable to refer to) or any other type.
                Report(DiagnosticDescriptors.InvalidReturnType, syntax.ReturnType.GetLocation(), method.Name, syntax.ReturnType.ToString());
                returnType = refKind + method.ReturnType.ToDisplayString(DeclarationReader.SignatureFormat);
                // A type that does not exist cannot be written in the stub's signature either.
                _signatureUnwritable = method.ReturnType.TypeKind == TypeKind.Error;
            }

            var parameters = new ParameterSpec[method.Parameters.Length];
            for (int i = 0; i < parameters.Length; i++)
            {
                IParameterSymbol parameter = method.Parameters[i];
                // The modifiers as written (this, scoped, params, ref, ...): both parts of a partial method repeat them.
                parameters[i] = new ParameterSpec(
                    ParameterSyntaxAt(i) is ParameterSyntax parameterSyntax ? ModifiersText(parameterSyntax.Modifiers, exceptPartial: false) : "",
                    _typeNames.Of(parameter.Type, DeclarationReader.SignatureFormat),
                    Naming.Identifier(parameter.Name));
            }
            signature = new MethodSignatureSpec(
                ModifiersText(syntax.Modifiers, exceptPartial: true) + "partial",
                returnType,
                method.TypeParameters.Length == 0 ? "" : $"<{string.Join(", ", method.TypeParameters.Select(t => Naming.Identifier(t.Name)))}>",
                new EquatableArray<ParameterSpec>(parameters),
                syntax.ConstraintClauses.Select(c => c.ToString()).ToEquatableArray(),
                (method.PartialDefinitionPart ?? method).GetDocumentationCommentId() ?? "",
                method.IsVararg);
            return _diagnostics.Count == before;
        }

        /// <summary>
        /// The declaration of the method's parameter <paramref name="index"/>: the method's own
        /// parameter list holds them in the symbol's order (an <c>__arglist</c>, which is no
        /// parameter symbol, can only come last), and reading it costs less than a symbol's
        /// syntax references, on every edit.
        /// </summary>
        private ParameterSyntax? ParameterSyntaxAt(int index)
            => index < syntax.ParameterList.Parameters.Count ? syntax.ParameterList.Parameters[index] : null;

        /// <summary>The modifiers as written, each followed by a space (without <c>partial</c> when <paramref name="exceptPartial"/>).</summary>
        private static string ModifiersText(SyntaxTokenList modifiers, bool exceptPartial)
        {
            string text = "";
            foreach (SyntaxToken modifier in modifiers)
            {
                if (!(exceptPartial && modifier.IsKind(SyntaxKind.PartialKeyword)))
                {
                    text += modifier.Text + " ";
                }
            }
            return text;
        }

        /// <summary>The member LossDsl adds for a [Loss] method must not exist already (or be another overload's).</summary>
        private void CheckGeneratedName(string name, string purpose, bool checkOverloads)
        {
            if (GeneratedNameHolder(name, checkOverloads) is string holder)
            {
                Report(DiagnosticDescriptors.GeneratedNameTaken, syntax.Identifier.GetLocation(), method.Name, name, purpose, holder);
            }
        }

        /// <summary>What already holds the name of a member LossDsl would add, described for LD0005; null when the name is free.</summary>
        private string? GeneratedNameHolder(string name, bool checkOverloads)
        {
            // The first [Loss] overload owns the name; later ones would clash with it.
            IMethodSymbol self = method.PartialDefinitionPart ?? method;
            bool overloaded = checkOverloads && type.GetMembers(method.Name).OfType<IMethodSymbol>()
                .Where(m => m.PartialDefinitionPart is null && DeclarationReader.LossAttributeOf(m) is not null)
                .TakeWhile(m => !SymbolEqualityComparer.Default.Equals(m, self))
                .Any();
            return
                overloaded ? $"another [Loss] method named '{method.Name}'" :
                MemberHolder(name) is INamedTypeSymbol owner ? $"'{owner.Name}'" :
                type.Name == name ? $"the type '{type.Name}' itself" :
                type.TypeParameters.Any(t => t.Name == name) ? $"a type parameter of '{type.Name}'" :
                null;
        }

        /// <summary>
        /// The type, or the nearest base, that has a member named <paramref name="name"/> which a
        /// generated member would clash with or hide (CS0108): any member of the type, an inherited one it can see.
        /// </summary>
        private INamedTypeSymbol? MemberHolder(string name)
        {
            for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
            {
                bool inherited = !SymbolEqualityComparer.Default.Equals(current, type);
                if (current.GetMembers(name).Any(m => !inherited || (m.DeclaredAccessibility != Accessibility.Private && compilation.IsSymbolAccessibleWithin(m, type))))
                {
                    return current;
                }
            }
            return null;
        }

        /// <summary>
        /// Where the formula's diagnostics point: the attribute's own syntax, found from its data
        /// (the string literal, character by character, when the formula is one), and the method's
        /// name and parameters.
        /// </summary>
        private FormulaPositions Positions()
        {
            string? literal = null;
            string value = "";
            TextSpan span;
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax applied)
            {
                span = syntax.Identifier.Span;
            }
            else if ((applied.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null && a.NameColon is null)
                      ?? applied.ArgumentList?.Arguments.FirstOrDefault(a => a.NameColon is not null)) is not AttributeArgumentSyntax argument)
            {
                span = applied.Span;
            }
            else if (argument.Expression is LiteralExpressionSyntax literalExpression && literalExpression.IsKind(SyntaxKind.StringLiteralExpression))
            {
                literal = literalExpression.Token.Text;
                value = literalExpression.Token.ValueText;
                span = literalExpression.Token.Span;
            }
            else
            {
                span = argument.Expression.Span;
            }
            TextLineCollection lines = syntax.SyntaxTree.GetText(cancellationToken).Lines;
            int first = lines.GetLineFromPosition(span.Start).LineNumber, last = lines.GetLineFromPosition(span.End).LineNumber;
            var lineStarts = new int[last - first + 1];
            for (int line = first; line <= last; line++)
            {
                lineStarts[line - first] = lines[line].Start;
            }
            var parameters = new ParameterPosition[method.Parameters.Length];
            for (int i = 0; i < parameters.Length; i++)
            {
                parameters[i] = new ParameterPosition(LocationInfo.From(ParameterSyntaxAt(i)?.Identifier.GetLocation()));
            }
            return new FormulaPositions(
                syntax.SyntaxTree.FilePath, literal, value, span, first,
                new EquatableArray<int>(lineStarts),
                LocationInfo.From(syntax.Identifier.GetLocation()),
                new EquatableArray<ParameterPosition>(parameters));
        }

        private static IEnumerable<string> ErrorMessages(IEnumerable<DiagnosticInfo> diagnostics)
            => diagnostics.Where(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error).Select(d => $"{d.Id}: {d.Message}");

        private void Report(DiagnosticDescriptor descriptor, Location? location, params string[] arguments)
            => _diagnostics.Add(DiagnosticInfo.Create(descriptor, LocationInfo.From(location), arguments));
    }
}
