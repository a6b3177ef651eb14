using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LossDsl.Generators;

// All [Loss] methods of the compilation → one spec per type, and the diagnostics that need more
// than one method to decide: a result type two methods claim, a term no method uses, file names
// that differ only by case. Both sides decide in the same order (the methods' order in the
// compilation), so the emitted stub and the reported error always agree.
public sealed partial class LossGenerator
{
    internal static IEnumerable<LossTypeSpec> Types(EquatableArray<LossMethodModel> models)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        var types = new List<(LossMethodModel First, List<LossMethodSpec> Methods)>();
        foreach (var group in models.GroupBy(m => m.TypeKey, StringComparer.Ordinal))
        {
            LossMethodModel first = group.First();
            var methods = new List<LossMethodSpec>();
            foreach (LossMethodModel model in group)
            {
                if (model.Method is not LossMethodSpec method || model.CompiledCopy)
                {
                    continue;
                }
                if (!model.TypeTakesCode)
                {
                    // The type cannot take the implementation; its result type still exists, so its uses compile.
                    method = method with { Implemented = false };
                }
                if (method.Result is ResultTypeSpec result)
                {
                    string owner = $"{model.Types[model.Types.Count - 1].CrefName}.{method.Name}";
                    if (EarlierClaim(owners, result.FullName, owner) is string existing)
                    {
                        // LD0007: the type exists already; this method only returns it.
                        string message = method.Body is StubBody stub ? stub.Message
                            : $"LossDsl did not implement [Loss] method '{owner}' because LD0007: its result type '{result.Name}' is generated for '{existing}' already. Fix the compile-time errors and rebuild.";
                        method = method with { Result = result with { Owned = false }, Body = new StubBody(message, EquatableArray<ResultMemberSpec>.Empty) };
                    }
                }
                if (method.Implemented || method.Result is { Owned: true })
                {
                    methods.Add(method);
                }
            }
            if (methods.Count > 0)
            {
                types.Add((first, methods));
            }
        }

        // Hint names must be unique ignoring case: N.Loss and N.LOSS are two types, and so are N.A.B
        // nested and B in namespace N.A, but each pair would be one file name.
        var clashes = new HashSet<string>(types.GroupBy(t => t.First.HintName, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).SelectMany(g => g.Select(t => t.First.TypeKey)));
        foreach (var (first, methods) in types)
        {
            yield return new LossTypeSpec(HintName(first, clashes), first.Namespace, first.Types, methods.ToEquatableArray());
        }
    }

    private static string HintName(LossMethodModel type, HashSet<string> clashes)
    {
        if (!clashes.Contains(type.TypeKey))
        {
            return type.HintName + ".LossDsl.g.cs";
        }
        uint hash = 2166136261; // FNV-1a of the type's identity: stable, and distinct for every type
        foreach (char c in type.TypeKey)
        {
            hash = unchecked((hash ^ c) * 16777619);
        }
        return $"{type.HintName}.{hash:x8}.LossDsl.g.cs";
    }

    /// <summary>
    /// The first claimer of a result type owns it: returns the owner when <paramref name="owner"/>
    /// comes later (LD0007), else records it. Emission and reporting both ask here, in the same order.
    /// </summary>
    private static string? EarlierClaim(Dictionary<string, string> owners, string resultType, string owner)
    {
        if (owners.TryGetValue(resultType, out string? existing))
        {
            return existing;
        }
        owners[resultType] = owner;
        return null;
    }

    /// <summary>
    /// Every diagnostic of the collected reports, including those that span methods (LD0007, LD0203):
    /// a step of its own, so that an edit that changes no report decides nothing again.
    /// </summary>
    private static EquatableArray<DiagnosticInfo> DiagnosticsOf(EquatableArray<LossMethodReport> reports)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var group in reports.GroupBy(r => r.TypeKey, StringComparer.Ordinal))
        {
            diagnostics.AddRange(group.SelectMany(r => r.TypeDiagnostics).Distinct());
            foreach (LossMethodReport report in group)
            {
                diagnostics.AddRange(report.Diagnostics);
                if (report.ResultTypeFullName is string result
                    && EarlierClaim(owners, result, $"{report.TypeName}.{report.MethodName}") is string existing)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateResultType, report.ResultTypeLocation,
                        report.MethodName, result.Substring(Math.Max(result.LastIndexOf('.'), result.LastIndexOf(':')) + 1), existing));
                }
            }
            // Unused terms are reported only when every formula bound: a broken one may be what uses them.
            if (group.All(r => r.Bound))
            {
                var used = new HashSet<string>(group.SelectMany(r => r.UsedTerms), StringComparer.Ordinal);
                LossMethodReport first = group.First();
                foreach (TermDeclaration term in first.DeclaredTerms.Where(t => !used.Contains(t.Name)))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnusedTerm, term.Location, term.Name, first.TypeName));
                }
            }
        }
        return diagnostics.ToEquatableArray();
    }

    /// <summary>Reports the diagnostics; combined with the compilation, so it runs on every edit, and does nothing when there are none.</summary>
    private static void Report(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics, Compilation compilation)
    {
        if (diagnostics.Count == 0)
        {
            return;
        }
        // Real source locations, so that #pragma warning disable and .editorconfig severities reach them.
        var trees = compilation.SyntaxTrees.GroupBy(t => t.FilePath, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (DiagnosticInfo diagnostic in diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic(trees));
        }
    }

    /// <summary>A [Loss] attribute that binds to something other than LossDsl's: a stub and LD0011, when LossDsl is referenced.</summary>
    internal static LossMethodInput? ParseForeign(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var attribute = (AttributeSyntax)context.Node;
        // Most attributes named Loss are LossDsl's: answer those with one symbol lookup.
        SymbolInfo info = context.SemanticModel.GetSymbolInfo(attribute, cancellationToken);
        ISymbol? bound = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
        INamedTypeSymbol? attributeType = bound as INamedTypeSymbol ?? bound?.ContainingType;
        // An attribute that binds without error (the user's own LossAttribute) is the one meant: not a mistake.
        if (info.Symbol is not null
            || attributeType?.ToDisplayString() == Parsing.DeclarationReader.LossAttributeName
            || attribute.Parent?.Parent is not MethodDeclarationSyntax syntax
            || context.SemanticModel.Compilation.GetTypeByMetadataName(Parsing.DeclarationReader.LossAttributeName) is null
            || context.SemanticModel.GetDeclaredSymbol(syntax, cancellationToken) is not IMethodSymbol method
            || method.ContainingType is not INamedTypeSymbol type
            || Parsing.DeclarationReader.LossAttributeOf(method) is not null)
        {
            return null;
        }
        AttributeData? data = method.GetAttributes().FirstOrDefault(a => a.ApplicationSyntaxReference?.Span == attribute.Span);
        if (data is null)
        {
            return null;
        }
        string what = attributeType is null ? "nothing (no such attribute is in scope)" : attributeType.ToDisplayString();
        return new MethodReader(type, method, syntax, data, context.SemanticModel.Compilation, cancellationToken).Read(foreignAttribute: what);
    }
}
