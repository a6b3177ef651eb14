using System;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LossDsl.Generators;

/// <summary>
/// Implements every partial method marked <c>[Loss(formula)]</c>: the formula is parsed, bound
/// and checked at compile time, and compiled to TorchSharp code (see DESIGN.md).
/// Pipeline: [Loss] methods → one <see cref="LossTypeSpec"/> per type (Parser) → source (Emitter).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class LossGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<LossTypeSpec> lossTypes = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parsing.DeclarationReader.LossAttributeName,
                predicate: static (node, _) => node is MethodDeclarationSyntax,
                transform: static (context, cancellationToken) => Parse(context, cancellationToken))
            .WithTrackingName(TrackingNames.Specs)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.LossTypes);

        // Hint names must be unique ignoring case (N.Loss and N.LOSS are two types but would be one
        // file name); the few that clash get a suffix. The set is usually empty, so it stays cached.
        IncrementalValueProvider<EquatableArray<string>> clashes = lossTypes
            .Select(static (spec, _) => spec.HintName)
            .Collect()
            .Select(static (names, _) => names
                .GroupBy(name => name, StringComparer.OrdinalIgnoreCase)
                .Where(group => group.Count() > 1)
                .SelectMany(group => group)
                .OrderBy(name => name, StringComparer.Ordinal)
                .ToEquatableArray())
            .WithTrackingName(TrackingNames.HintNameClashes);

        context.RegisterSourceOutput(lossTypes.Combine(clashes), static (context, pair) => Execute(context, pair.Left, pair.Right));
    }

    private static void Execute(SourceProductionContext context, LossTypeSpec spec, EquatableArray<string> clashes)
    {
        foreach (DiagnosticInfo diagnostic in spec.Diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
        if (spec.Methods.Count > 0)
        {
            string hint = spec.HintName;
            if (clashes.Contains(hint))
            {
                uint hash = 2166136261; // FNV-1a of the exact name: stable, and distinct for names that differ by case
                foreach (char c in hint)
                {
                    hash = unchecked((hash ^ c) * 16777619);
                }
                hint = hint.Replace(".LossDsl.g.cs", $".{hash:x8}.LossDsl.g.cs");
            }
            context.AddSource(hint, Emit(spec));
        }
    }
}
