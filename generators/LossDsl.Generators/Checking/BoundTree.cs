using System.Collections.Generic;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Functions;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Checking;

// The checked formula: every name resolved, every call matched to its function-table entry and
// its options validated. The checker produces it; the lowerer turns it into a plan. It lives
// only inside the transform, so it may hold syntax and table entries.

internal abstract record BoundExpr
{
    public virtual ValueKind Kind => ValueKind.Tensor;
}

/// <summary>
/// Something the checker already reported: nothing more is said about it. <see cref="Intended"/> is
/// the kind it would have had, where that is known without it (a schedule is a number, a list term a
/// list), so that a failed method's stub result still types the binding as the real result would.
/// </summary>
internal sealed record BoundError : BoundExpr
{
    public static readonly BoundError Instance = new(ValueKind.Other);
    public static readonly BoundError Number = new(ValueKind.Number);
    public static readonly BoundError List = new(ValueKind.List);

    private BoundError(ValueKind intended) => Intended = intended;

    public ValueKind Intended { get; }

    public override ValueKind Kind => ValueKind.Other;

    /// <summary>What a value that is, or is computed from, an error would have been; Other when not known.</summary>
    public static ValueKind IntendedKind(BoundExpr value) => value is BoundError error ? error.Intended : value.Kind;

    public static BoundError Of(ValueKind intended)
        => intended == ValueKind.Number ? Number : intended == ValueKind.List ? List : Instance;
}

/// <summary>A plain number: literals folded, hyperparameters read at call time, schedules.</summary>
internal sealed record BoundNumber(NumberExpr Value) : BoundExpr
{
    public override ValueKind Kind => ValueKind.Number;
}

internal sealed record BoundTerm(TermInfo Term) : BoundExpr
{
    public override ValueKind Kind => Term.IsList ? ValueKind.List : ValueKind.Tensor;
}

/// <summary>
/// The bool that switches a term on or off in <c>If(switch, Term)</c>: a parameter, or a member
/// reached through <see cref="Via"/>; <see cref="Reference"/> is the non-nullable Tensor parameter
/// of the [Loss] method whose device a switched-off term's zero is created on.
/// </summary>
internal sealed record BoundSwitch(ExternalKind Source, string Name, Receiver? Via, string Reference) : BoundExpr
{
    public override ValueKind Kind => ValueKind.Other;
}

/// <summary>The parameters of <c>by: Gradient(P)</c> or <c>shared: P</c>; <see cref="Text"/> is P as written.</summary>
internal sealed record BoundParameters(ParameterSet Set, string Text) : BoundExpr
{
    public override ValueKind Kind => ValueKind.Parameters;
}

internal sealed record BoundTensorParameter(string Name) : BoundExpr;

internal sealed record BoundTensorMember(MemberInfo Member) : BoundExpr;

/// <summary>A use of a tensor binding of an earlier line.</summary>
internal sealed record BoundBindingRef(string Name, BoundExpr Value) : BoundExpr
{
    public override ValueKind Kind => Value.Kind;
}

internal sealed record BoundNegate(BoundExpr Operand) : BoundExpr
{
    public override ValueKind Kind => Operand.Kind;
}

/// <summary><c>Left op Right</c> where at least one side is a tensor, or one side a list and the other a number (elementwise).</summary>
internal sealed record BoundBinary(char Operator, BoundExpr Left, BoundExpr Right) : BoundExpr
{
    public override ValueKind Kind => Left.Kind == ValueKind.List || Right.Kind == ValueKind.List ? ValueKind.List : ValueKind.Tensor;
}

/// <summary>A call whose arity, argument kinds and options the checker accepted.</summary>
internal sealed record BoundCall(
    FunctionEntry Function,
    IReadOnlyList<BoundExpr> Arguments,
    IReadOnlyDictionary<string, BoundOption> Options,
    CallSyntax Syntax) : BoundExpr
{
    /// <summary>An elementwise function (Balance, Detach) of a list is a list; anything else is a tensor.</summary>
    public override ValueKind Kind => KindOf(Function, i => Arguments[i].Kind);

    /// <summary>
    /// The kind of a tensor call of <paramref name="function"/> whose argument i has the kind
    /// <paramref name="argument"/>(i): If is the term it switches, an elementwise function of a list a
    /// list, anything else a tensor.
    /// </summary>
    public static ValueKind KindOf(FunctionEntry function, System.Func<int, ValueKind> argument) =>
        function.TakesSwitch ? argument(1) :
        function.Elementwise && argument(0) == ValueKind.List ? ValueKind.List : ValueKind.Tensor;

    /// <summary>A number option's value: the one written, else the table's default.</summary>
    public double? Number(string option)
        => Options.TryGetValue(option, out BoundOption? given) ? given.Number : Function.Option(option)?.Default;

    public BoundExpr? Tensor(string option) => Options.TryGetValue(option, out BoundOption? given) ? given.Value : null;

    /// <summary>A parameters option's value (<c>by: Gradient(P)</c>, <c>shared: P</c>), when given.</summary>
    public BoundParameters? Parameters(string option) => Options.TryGetValue(option, out BoundOption? given) ? given.Value as BoundParameters : null;

    /// <summary>A number option read at call time (<see cref="OptionSpec.ReadAtCallTime"/>), when given.</summary>
    public NumberExpr? NumberValue(string option) => Options.TryGetValue(option, out BoundOption? given) && given.Value is BoundNumber number ? number.Value : null;
}

/// <summary>
/// An option given in a call: an expression (a tensor, or a number read at call time), or a number
/// fixed at compile time.
/// </summary>
internal sealed record BoundOption(OptionSpec Spec, ArgumentSyntax Syntax, BoundExpr? Value, double? Number);

/// <summary>One line of the formula, checked.</summary>
internal sealed record BoundBinding(string Name, string Line, BoundExpr Value, bool IsLoss);

/// <summary>What the checker made of a formula.</summary>
internal sealed class CheckedFormula(IReadOnlyList<BoundBinding> bindings, IReadOnlyList<CheckError> errors)
{
    public IReadOnlyList<BoundBinding> Bindings { get; } = bindings;

    public IReadOnlyList<CheckError> Errors { get; } = errors;

    /// <summary>True when nothing may be generated: errors, or a term whose declaration is invalid.</summary>
    public bool Failed { get; init; }

    /// <summary>The [Term] methods the formula calls, for the unused-term warning.</summary>
    public IReadOnlyCollection<string> UsedTerms { get; init; } = new string[0];

    /// <summary>The [Loss] method's parameters the formula or its terms use, for the unused-parameter warning.</summary>
    public IReadOnlyCollection<string> UsedParameters { get; init; } = new string[0];

    /// <summary>The diagnostic IDs of [Obsolete(DiagnosticId = …)] members the formula uses, which the generated code suppresses (LD0206 reports the use).</summary>
    public IReadOnlyCollection<string> ObsoleteIds { get; init; } = new string[0];

    /// <summary>The stateful uses, in formula order (what the state holds).</summary>
    public bool UsesState { get; init; }
}

/// <summary>A checking error: the descriptor, the characters of the formula, the message arguments.</summary>
internal sealed record CheckError(Microsoft.CodeAnalysis.DiagnosticDescriptor Descriptor, FormulaSpan Span, string[] Arguments);
