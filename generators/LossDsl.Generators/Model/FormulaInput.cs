using LossDsl.Generators.Checking;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace LossDsl.Generators.Model;

// What the transform hands to the formula step, and what that step gives back. The transform
// re-runs for every [Loss] method whenever the compilation changes; the formula step (parse,
// check, lower) runs only for a method whose FormulaInput changed, since it sees nothing else.

/// <summary>
/// One [Loss] method as the transform reads it: the result as far as the declaration decides it
/// (<see cref="Shell"/>: no method yet, no formula diagnostics, nothing used or bound), and the
/// formula to compile into it, when there is one.
/// </summary>
internal sealed record LossMethodInput(LossMethodResult Shell, PendingFormula? Formula);

/// <summary>A formula to compile: what compiling it needs, and where its diagnostics point.</summary>
internal sealed record PendingFormula(FormulaInput Input, FormulaPositions Positions);

/// <summary>
/// Everything parsing, checking and lowering one formula need, read from the symbols: no source
/// position, so it compares equal after any edit that changes nothing the formula can see.
/// <see cref="DeclarationReported"/>: the declaration has diagnostics already, so the method gets
/// a stub (<see cref="DeclarationErrors"/> are the messages it names). <see cref="StateName"/>
/// and <see cref="StateField"/> are the members a formula with state adds, and what holds them.
/// </summary>
internal sealed record FormulaInput(
    string Formula,
    bool CheckFinite,
    LossDeclaration Declaration,
    MethodSignatureSpec Signature,
    ResultTypeSpec? Result,
    bool Implemented,
    bool DeclarationReported,
    EquatableArray<string> DeclarationErrors,
    GeneratedName StateName,
    GeneratedName StateField);

/// <summary>A member LossDsl adds to the loss type, and what holds its name already (described for LD0005), if anything.</summary>
internal sealed record GeneratedName(string Name, string? Holder);

/// <summary>
/// What compiling a formula gave: the method's spec (the plan, or a stub), its diagnostics
/// (placed in the formula or the declaration, not yet in the source), the terms it uses (sorted)
/// and whether it bound (no check error).
/// </summary>
internal sealed record FormulaOutput(LossMethodSpec Spec, EquatableArray<PlacedDiagnostic> Diagnostics, EquatableArray<string> UsedTerms, bool Bound);

/// <summary>What a diagnostic of the formula step points at.</summary>
internal enum DiagnosticPlace
{
    /// <summary>Characters of the formula: <see cref="PlacedDiagnostic.Start"/> and <see cref="PlacedDiagnostic.Length"/>.</summary>
    Formula,
    /// <summary>A parameter of the [Loss] method: <see cref="PlacedDiagnostic.Start"/> is its index.</summary>
    Parameter,
    /// <summary>The [Loss] method's name.</summary>
    MethodName,
}

/// <summary>A diagnostic of the formula step, placed relative to its method: <see cref="FormulaPositions.Locate"/> gives it a source location.</summary>
internal sealed record PlacedDiagnostic(DiagnosticDescriptor Descriptor, DiagnosticPlace Place, int Start, int Length, EquatableArray<string> Arguments)
{
    /// <summary>The message as the user reads it, for the stub of a method with errors.</summary>
    public string Message => new DiagnosticInfo(Descriptor, null, Arguments).Message;
}

/// <summary>
/// Where the diagnostics of one formula point. <see cref="Span"/> is the string literal's token
/// (<see cref="Literal"/> its text, <see cref="Value"/> its value), or, when the formula is not a
/// literal, what every formula diagnostic underlines; <see cref="LineStarts"/> are the starts of
/// the lines it covers, from <see cref="FirstLine"/>, so a line span needs no syntax tree.
/// </summary>
internal sealed record FormulaPositions(
    string FilePath,
    string? Literal,
    string Value,
    TextSpan Span,
    int FirstLine,
    EquatableArray<int> LineStarts,
    LocationInfo? MethodName,
    EquatableArray<ParameterPosition> Parameters)
{
    public LocationInfo? Locate(PlacedDiagnostic diagnostic) => diagnostic.Place switch
    {
        DiagnosticPlace.Formula => Formula(diagnostic.Start, diagnostic.Length),
        DiagnosticPlace.Parameter => Parameters[diagnostic.Start].Location,
        DiagnosticPlace.MethodName => MethodName,
        _ => throw new System.ArgumentOutOfRangeException(nameof(diagnostic), diagnostic.Place, "a place the formula step does not produce"),
    };

    private LocationInfo Formula(int start, int length)
    {
        StringLiteralMap map = Literal is null ? StringLiteralMap.Whole(Span) : StringLiteralMap.Create(Literal, Span.Start, Value);
        TextSpan source = map.Map(start, length);
        return new LocationInfo(FilePath, source, new LinePositionSpan(Position(source.Start), Position(source.End)));
    }

    private LinePosition Position(int at)
    {
        int line = LineStarts.Count - 1;
        while (line > 0 && LineStarts[line] > at)
        {
            line--;
        }
        return new LinePosition(FirstLine + line, System.Math.Max(0, at - LineStarts[line]));
    }
}

/// <summary>Where a parameter of the [Loss] method is declared (null when it has no syntax).</summary>
internal sealed record ParameterPosition(LocationInfo? Location);
