using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Lowering;
using LossDsl.Generators.Model;
using LossDsl.Generators.Parsing;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace LossDsl.Generators;

// Syntax and symbols → one LossMethodResult per [Loss] method: the declaration is checked, the
// formula parsed, checked and lowered. The only place that touches Roslyn's semantic model.
public sealed partial class LossGenerator
{
    internal static LossMethodResult? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
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
    private static LossMethodResult? NotAMethod(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
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
        return new LossMethodResult(model, report);
    }

    /// <summary>Reads one [Loss] method; collects its diagnostics as it goes.</summary>
    private sealed class MethodReader(
        INamedTypeSymbol type, IMethodSymbol method, MethodDeclarationSyntax syntax, AttributeData attribute, Compilation compilation, CancellationToken cancellationToken)
    {
        private readonly List<DiagnosticInfo> _diagnostics = new();
        private readonly List<DiagnosticInfo> _typeDiagnostics = new();
        private readonly string _hintName = DeclarationReader.HintName(type);
        private readonly string _typeKey = DeclarationReader.TypeKey(type);
        // The return type cannot be written in generated code (LD0013): nothing implements the method.
        private bool _signatureUnwritable;

        public LossMethodResult Read(string? foreignAttribute)
        {
            bool typeTakesCode = CheckType();
            Dictionary<string, TermInfo> terms = DeclarationReader.Terms(type, compilation);
            foreach (TermInfo term in terms.Values.Where(t => t.Problem is not null && t.DeclaredInLossType))
            {
                _typeDiagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTerm, term.Location, term.Name, term.Problem!));
            }
            var declaredTerms = terms.Values.Where(t => t.DeclaredInLossType && t.Problem is null).Select(t => new TermDeclaration(t.Name, t.Location)).ToEquatableArray();

            // A compiled copy of earlier generated code implements the method already: nothing to read.
            string? copy = CompiledCopy();
            LossMethodSpec? spec = null;
            CheckedFormula? check = null;
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
            else
            {
                (spec, check) = foreignAttribute is null ? ReadMethod(terms) : (ForeignAttributeStub(foreignAttribute), null);
            }

            var model = new LossMethodModel(_typeKey, _hintName, Namespace(), DeclarationReader.ContainingTypes(type).ToEquatableArray(), typeTakesCode, spec, copy is not null);
            var report = new LossMethodReport(
                _typeKey, type.Name, method.Name,
                _diagnostics.ToEquatableArray(), _typeDiagnostics.ToEquatableArray(), declaredTerms,
                (check?.UsedTerms ?? Array.Empty<string>()).OrderBy(t => t, StringComparer.Ordinal).ToEquatableArray(),
                Bound: check is { Failed: false },
                spec?.Result?.FullName,
                LocationInfo.From(syntax.ReturnType.GetLocation()));
            return new LossMethodResult(model, report);
        }

        private string Namespace() => type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();

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
                    a.AttributeClass?.ToDisplayString() == "System.CodeDom.Compiler.GeneratedCodeAttribute"
                    && a.ConstructorArguments.Length > 0 && a.ConstructorArguments[0].Value as string == "LossDsl"))
            {
                return null;
            }
            return implementation.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree.FilePath;
        }

        private (LossMethodSpec? Spec, CheckedFormula? Check) ReadMethod(Dictionary<string, TermInfo> terms)
        {
            // A method with a body (or no 'partial', or an implementation part of the user's own) is
            // implemented by the user: nothing to generate.
            if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword) || syntax.Body is not null || syntax.ExpressionBody is not null
                || (method.PartialDefinitionPart ?? method).PartialImplementationPart is not null)
            {
                Report(DiagnosticDescriptors.LossMethodNotPartial, syntax.Identifier.GetLocation(), method.Name);
                return (null, null);
            }
            bool valid = CheckSignature(out ResultTypeSpec? result, out MethodSignatureSpec signature);
            valid &= CheckGeneratedName(method.Name + "Explanation", "its explanation text", checkOverloads: true);

            // Malformed attribute arguments are the compiler's to report; the method gets a stub.
            if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error
                || attribute.NamedArguments.Any(n => n.Value.Kind == TypedConstantKind.Error))
            {
                return (Stub(signature, result, Array.Empty<BindingSyntax>(), "its [Loss] attribute has errors"), null);
            }

            string formula = attribute.ConstructorArguments[0].Value as string ?? "";
            string? prefix = null;
            bool checkFinite = false;
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "MetricsPrefix") prefix = named.Value.Value as string;
                if (named.Key == "CheckFinite") checkFinite = named.Value.Value is true;
            }
            StringLiteralMap map = FormulaMap();
            SyntaxTree tree = syntax.SyntaxTree;
            LocationInfo Locate(FormulaSpan span)
            {
                TextSpan source = map.Map(span.Start, span.Length);
                return new LocationInfo(tree.FilePath, source, tree.GetLineSpan(source, cancellationToken).Span);
            }

            var (parsed, syntaxErrors) = FormulaParser.Parse(formula);
            foreach (FormulaError error in syntaxErrors)
            {
                _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FormulaSyntax, Locate(error.Span), error.Message));
            }
            if (syntaxErrors.Count == 0 && parsed.Bindings.Count == 0)
            {
                _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EmptyFormula, Locate(new FormulaSpan(0, formula.Length)), method.Name));
            }
            if (_diagnostics.Count > 0)
            {
                return (Stub(signature, result, parsed.Bindings, null), null);
            }

            LossDeclaration declaration = DeclarationReader.Declaration(type, method, terms, prefix, compilation) with { ResultTypeName = result?.Name };
            CheckedFormula check = Checker.Check(declaration, parsed, formula);
            if (check.UsesState)
            {
                valid &= CheckGeneratedName(method.Name + "State", "its state", checkOverloads: false)
                    && CheckGeneratedName("__lossDsl" + method.Name + "State", "its state", checkOverloads: false);
            }
            foreach (CheckError error in check.Errors)
            {
                _diagnostics.Add(new DiagnosticInfo(error.Descriptor, Locate(error.Span), error.Arguments.ToEquatableArray()));
            }
            if (check.Failed || !valid)
            {
                bool reported = _diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
                return (Stub(signature, result, parsed.Bindings, reported ? null : "a [Term] method it uses has errors", check), check);
            }

            foreach (IParameterSymbol parameter in method.Parameters.Where(p => !check.UsedParameters.Contains(p.Name)))
            {
                var parameterSyntax = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as ParameterSyntax;
                Report(DiagnosticDescriptors.UnusedParameter, parameterSyntax?.Identifier.GetLocation(), parameter.Name, method.Name);
            }
            PlanBody plan = Lowerer.Lower(declaration, check, checkFinite);
            return (new LossMethodSpec(method.Name, signature, result, plan, Implemented), check);
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
            return Stub(signature, result, Array.Empty<BindingSyntax>(), null);
        }

        /// <summary>C# forbids an implementation of a value-returning partial method declared without accessibility (CS8796).</summary>
        private bool Implemented
            => !_signatureUnwritable && syntax.Modifiers.Any(m => m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) || m.IsKind(SyntaxKind.PrivateKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword));

        /// <summary>
        /// A method that throws, and its result with a throwing property per binding. Where the checker
        /// got to a binding (<paramref name="check"/>), a number binding is a double property as in the
        /// real result, or none when it is a literal, and a list binding a list property.
        /// </summary>
        private LossMethodSpec Stub(MethodSignatureSpec signature, ResultTypeSpec? result, IReadOnlyList<BindingSyntax> bindings, string? reason, CheckedFormula? check = null)
        {
            var errors = _diagnostics.Where(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error).Select(d => $"{d.Id}: {d.Message}").ToList();
            string why = reason ?? (errors.Count == 0 ? "its declaration has errors" : "of " + string.Join("; ", errors.Take(3)) + (errors.Count > 3 ? $"; and {errors.Count - 3} more" : ""));
            string message = $"LossDsl did not implement [Loss] method '{type.Name}.{method.Name}' because {why}. Fix the compile-time errors and rebuild.";
            var names = new HashSet<string>(ReservedResultNames.Append(result?.Name.TrimStart('@') ?? ""), StringComparer.Ordinal);
            // A number binding whose value failed (a schedule with a bad length) is computed in the real result.
            var numbers = (check?.Bindings ?? Array.Empty<BoundBinding>()).Where(b => BoundError.IntendedKind(b.Value) == ValueKind.Number).GroupBy(b => b.Name)
                .ToDictionary(g => g.Key, g => g.First().Value is not BoundNumber number || number.Value.Constant is null);
            // A binding the checker found to be a list keeps its list type, so code that reads it compiles.
            var lists = new HashSet<string>((check?.Bindings ?? Array.Empty<BoundBinding>()).Where(b => BoundError.IntendedKind(b.Value) == ValueKind.List).Select(b => b.Name), StringComparer.Ordinal);
            var members = bindings
                .Where(b => !numbers.TryGetValue(b.Name, out bool computed) || computed)
                .Select(b => (Property: Naming.Pascal(b.Name), Role: numbers.ContainsKey(b.Name) ? MemberRole.Number : MemberRole.Binding, IsList: lists.Contains(b.Name)))
                .Where(m => names.Add(m.Property))
                .Select(m => new ResultMemberSpec(Naming.Identifier(m.Property), new Local("", m.Property), "", m.Role, m.Property)
                {
                    List = m.IsList ? new ListElements(new Local("", m.Property), Unbind: false) : null,
                })
                .ToEquatableArray();
            return new LossMethodSpec(method.Name, signature, result, new StubBody(message, members), Implemented);
        }

        /// <summary>Checks the [Loss] method's declaration; false when only a stub can be generated for it.</summary>
        private bool CheckSignature(out ResultTypeSpec? result, out MethodSignatureSpec signature)
        {
            int before = _diagnostics.Count;
            if (method.IsGenericMethod)
            {
                Report(DiagnosticDescriptors.LossMethodGeneric, syntax.Identifier.GetLocation(), method.Name);
            }
            foreach (IParameterSymbol parameter in method.Parameters.Where(p => p.RefKind != RefKind.None))
            {
                var parameterSyntax = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as ParameterSyntax;
                Report(DiagnosticDescriptors.LossParameterByReference, parameterSyntax?.Identifier.GetLocation(),
                    parameter.Name, method.Name, DeclarationReader.RefKindText(parameter.RefKind).Trim());
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
                returnType = "global::" + (Namespace().Length == 0 ? "" : Namespace() + ".") + resultName;
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

            var modifiers = syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text).ToList();
            modifiers.Add("partial");
            signature = new MethodSignatureSpec(
                string.Join(" ", modifiers),
                returnType,
                method.TypeParameters.Length == 0 ? "" : $"<{string.Join(", ", method.TypeParameters.Select(t => Naming.Identifier(t.Name)))}>",
                // The modifiers as written (this, scoped, params, ref, ...): both parts of a partial method repeat them.
                method.Parameters.Select((p, i) => new ParameterSpec(
                    string.Concat(syntax.ParameterList.Parameters.ElementAtOrDefault(i)?.Modifiers.Select(m => m.Text + " ") ?? Array.Empty<string>()),
                    p.Type.ToDisplayString(DeclarationReader.SignatureFormat),
                    Naming.Identifier(p.Name))).ToEquatableArray(),
                syntax.ConstraintClauses.Select(c => c.ToString()).ToEquatableArray(),
                (method.PartialDefinitionPart ?? method).GetDocumentationCommentId() ?? "",
                method.IsVararg);
            return _diagnostics.Count == before;
        }

        /// <summary>The member LossDsl adds for a [Loss] method must not exist already (or be another overload's).</summary>
        private bool CheckGeneratedName(string name, string purpose, bool checkOverloads)
        {
            // The first [Loss] overload owns the name; later ones would clash with it.
            IMethodSymbol self = method.PartialDefinitionPart ?? method;
            bool overloaded = checkOverloads && type.GetMembers(method.Name).OfType<IMethodSymbol>()
                .Where(m => m.PartialDefinitionPart is null && DeclarationReader.LossAttributeOf(m) is not null)
                .TakeWhile(m => !SymbolEqualityComparer.Default.Equals(m, self))
                .Any();
            string? holder =
                overloaded ? $"another [Loss] method named '{method.Name}'" :
                MemberHolder(name) is INamedTypeSymbol owner ? $"'{owner.Name}'" :
                type.Name == name ? $"the type '{type.Name}' itself" :
                type.TypeParameters.Any(t => t.Name == name) ? $"a type parameter of '{type.Name}'" :
                null;
            if (holder is null)
            {
                return true;
            }
            Report(DiagnosticDescriptors.GeneratedNameTaken, syntax.Identifier.GetLocation(), method.Name, name, purpose, holder);
            return false;
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

        /// <summary>The map from the formula's characters to the source: the attribute's own syntax, found from its data.</summary>
        private StringLiteralMap FormulaMap()
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax applied)
            {
                return StringLiteralMap.Whole(syntax.Identifier.Span);
            }
            AttributeArgumentSyntax? argument = applied.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null && a.NameColon is null)
                ?? applied.ArgumentList?.Arguments.FirstOrDefault(a => a.NameColon is not null);
            if (argument is null)
            {
                return StringLiteralMap.Whole(applied.Span);
            }
            if (argument.Expression is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression))
            {
                return StringLiteralMap.Create(literal.Token.Text, literal.Token.SpanStart, literal.Token.ValueText);
            }
            return StringLiteralMap.Whole(argument.Expression.Span);
        }

        private void Report(DiagnosticDescriptor descriptor, Location? location, params string[] arguments)
            => _diagnostics.Add(DiagnosticInfo.Create(descriptor, LocationInfo.From(location), arguments));
    }
}
