using System;
using System.Collections.Immutable;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LossDsl.Generators;

/// <summary>
/// Implements every partial method marked <c>[Loss(formula)]</c>: the formula is parsed, checked
/// and compiled to TorchSharp code. The stages and their invariants: ARCHITECTURE.md.
/// Pipeline: each [Loss] method → a <see cref="LossMethodInput"/> (Parser), its formula compiled in
/// a cached step of its own (Formula) → a <see cref="LossMethodResult"/>; all of them → one
/// <see cref="LossTypeSpec"/> per type (Types) → source (Emitter); and, apart, their diagnostics,
/// reported at real source locations.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class LossGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<LossMethodInput> lossMethods = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parsing.DeclarationReader.LossAttributeName,
                // Operators, accessors, constructors, local functions and lambdas are methods too: each gets LD0012.
                predicate: static (node, _) => node is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax,
                transform: static (context, cancellationToken) => Parse(context, cancellationToken))
            .Where(static input => input is not null)
            .Select(static (input, _) => input!)
            .WithTrackingName(TrackingNames.Methods);

        // [Loss] written where it binds to another attribute (TorchSharp's Loss<…> without 'using LossDsl;').
        IncrementalValuesProvider<LossMethodInput> foreign = context.SyntaxProvider
            .CreateSyntaxProvider(
                predicate: static (node, _) => node is AttributeSyntax attribute && Parsing.DeclarationReader.MayNameLossAttribute(attribute.Name)
                    && attribute.Parent?.Parent is MethodDeclarationSyntax
                    && !(attribute.Name is SimpleNameSyntax && Parsing.DeclarationReader.ImportsLossDsl(attribute)),
                transform: static (context, cancellationToken) => ParseForeign(context, cancellationToken))
            .WithTrackingName(TrackingNames.ForeignMethods)
            .Where(static input => input is not null)
            .Select(static (input, _) => input!);

        // The transforms above re-run for every [Loss] method on every edit, but read only the
        // symbols. Each formula is compiled (parsed, checked, lowered) in a step that sees only its
        // location-free FormulaInput, so Roslyn skips it for every method whose input is unchanged.
        IncrementalValuesProvider<LossMethodInput> inputs = lossMethods.Collect()
            .Combine(foreign.Collect())
            .SelectMany(static (pair, _) => pair.Left.AddRange(pair.Right));
        IncrementalValuesProvider<FormulaOutput?> formulas = inputs
            .Select(static (input, _) => input.Formula?.Input)
            .WithTrackingName(TrackingNames.FormulaInputs)
            .Select(static (input, _) => input is null ? null : CompileFormula(input))
            .WithTrackingName(TrackingNames.Formulas);

        // Both come from the same inputs, one for one and in the same order.
        IncrementalValueProvider<ImmutableArray<LossMethodResult>> all = inputs.Collect()
            .Combine(formulas.Collect())
            .Select(static (pair, _) => pair.Left.Zip(pair.Right, Complete).ToImmutableArray());

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
        IncrementalValueProvider<EquatableArray<DiagnosticInfo>> diagnostics = reports
            .Select(static (reports, _) => DiagnosticsOf(reports))
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (context, pair) => Report(context, pair.Left, pair.Right));
    }
}
