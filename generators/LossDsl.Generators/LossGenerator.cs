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

        context.RegisterSourceOutput(lossTypes, static (context, spec) => Execute(context, spec));
    }

    private static void Execute(SourceProductionContext context, LossTypeSpec spec)
    {
        foreach (DiagnosticInfo diagnostic in spec.Diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
        if (spec.Methods.Count > 0)
        {
            context.AddSource(spec.HintName, Emit(spec));
        }
    }
}
