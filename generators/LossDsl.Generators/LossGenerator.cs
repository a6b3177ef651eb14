using System;
using System.Collections.Immutable;
using System.Linq;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LossDsl.Generators;

/// <summary>
/// Implements every partial method marked <c>[Loss(formula)]</c>: the formula is parsed, checked
/// and compiled to TorchSharp code. The stages and their invariants: ARCHITECTURE.md.
/// Pipeline: each [Loss] method → a <see cref="LossMethodResult"/> (Parser); all of them → one
/// <see cref="LossTypeSpec"/> per type (Types) → source (Emitter); and, apart, their diagnostics,
/// reported at real source locations.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class LossGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<LossMethodResult> lossMethods = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parsing.DeclarationReader.LossAttributeName,
                // Operators, accessors, constructors, local functions and lambdas are methods too: each gets LD0012.
                predicate: static (node, _) => node is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax,
                transform: static (context, cancellationToken) => Parse(context, cancellationToken))
            .Where(static result => result is not null)
            .Select(static (result, _) => result!)
            .WithTrackingName(TrackingNames.Methods);

        // [Loss] written where it binds to another attribute (TorchSharp's Loss<…> without 'using LossDsl;').
        IncrementalValuesProvider<LossMethodResult> foreign = context.SyntaxProvider
            .CreateSyntaxProvider(
                predicate: static (node, _) => node is AttributeSyntax attribute && Parsing.DeclarationReader.MayNameLossAttribute(attribute.Name)
                    && attribute.Parent?.Parent is MethodDeclarationSyntax
                    && !(attribute.Name is SimpleNameSyntax && Parsing.DeclarationReader.ImportsLossDsl(attribute)),
                transform: static (context, cancellationToken) => ParseForeign(context, cancellationToken))
            .WithTrackingName(TrackingNames.ForeignMethods)
            .Where(static result => result is not null)
            .Select(static (result, _) => result!);

        IncrementalValueProvider<ImmutableArray<LossMethodResult>> all = lossMethods.Collect()
            .Combine(foreign.Collect())
            .Select(static (pair, _) => pair.Left.AddRange(pair.Right));

        // Emission sees no source positions: an edit that only moves a declaration re-runs nothing here.
        IncrementalValuesProvider<LossTypeSpec> lossTypes = all
            .Select(static (results, _) => results.Select(r => r.Model).ToEquatableArray())
            .WithTrackingName(TrackingNames.Models)
            .SelectMany(static (models, _) => Types(models))
            .WithTrackingName(TrackingNames.LossTypes);
        context.RegisterSourceOutput(lossTypes, static (context, spec) => context.AddSource(spec.HintName, Emit(spec)));

        IncrementalValueProvider<EquatableArray<LossMethodReport>> reports = all
            .Select(static (results, _) => results.Select(r => r.Report).ToEquatableArray())
            .WithTrackingName(TrackingNames.Reports);
        context.RegisterSourceOutput(reports.Combine(context.CompilationProvider), static (context, pair) => Report(context, pair.Left, pair.Right));
    }
}
