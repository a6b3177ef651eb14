using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Lowering;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;

namespace LossDsl.Generators.Functions;

/// <summary>What a rule accepts for a numeric option, and how a message says it.</summary>
internal sealed class NumberRule(Func<double, bool> accepts, string text, bool whole = false)
{
    public static readonly NumberRule Positive = new(v => v > 0, "greater than 0");
    public static readonly NumberRule NonNegative = new(v => v >= 0, "0 or more");
    public static readonly NumberRule OpenUnit = new(v => v > 0 && v < 1, "between 0 and 1, both excluded");
    public static readonly NumberRule UnitExcludingZero = new(v => v > 0 && v <= 1, "greater than 0 and at most 1");
    public static readonly NumberRule WholeAtLeastOne = new(v => v >= 1 && v <= int.MaxValue && Math.Floor(v) == v, "a whole number of 1 or more", whole: true);

    public bool Accepts(double value) => accepts(value);

    public string Text { get; } = text;

    /// <summary>Whether the value is a count (written without a decimal point when passed on).</summary>
    public bool IsWhole { get; } = whole;
}

/// <summary>
/// An option of a function, <c>name: value</c>. A tensor option (<c>to:</c>) takes any tensor
/// expression; a number option takes a number written in the formula (a literal, optionally
/// negated or in parentheses), checked against <see cref="Rule"/>, unless it is
/// <see cref="ReadAtCallTime"/>: then it takes any number expression, which the function's own
/// check validates when it is a literal and its runtime method when it is not.
/// </summary>
internal sealed class OptionSpec(string name, ValueKind kind, NumberRule? rule = null, double? @default = null, bool required = false, bool readAtCallTime = false, string? wrapper = null, params string[] aliases)
{
    /// <summary>
    /// For a <see cref="ValueKind.Parameters"/> option, the call its value is written in
    /// (<c>by: Gradient(P)</c>); null when the option takes the name alone (<c>shared: P</c>).
    /// </summary>
    public string? Wrapper { get; } = wrapper;

    /// <summary>Whether the option takes any number expression, read when the loss runs (a schedule's from: and warmup:).</summary>
    public bool ReadAtCallTime { get; } = readAtCallTime;

    public string Name { get; } = name;
    public ValueKind Kind { get; } = kind;
    public NumberRule? Rule { get; } = rule;
    public double? Default { get; } = @default;
    public bool Required { get; } = required;

    /// <summary>Names users write for this option by habit (epsilon, beta, …): "did you mean" answers with the real one.</summary>
    public IReadOnlyList<string> Aliases { get; } = aliases;
}

/// <summary>
/// One function of the formula language: everything the checker, the lowerer, the emitter and
/// the explanation writer need to know about it, in one place (FunctionTable). Messages about
/// functions and their options are produced from these entries.
/// </summary>
internal sealed class FunctionEntry
{
    public string Name { get; init; } = "";

    /// <summary>How a call is written, for messages: <c>Balance(x, to: y)</c>.</summary>
    public string Usage { get; init; } = "";

    /// <summary>What the positional arguments are, in a message: "one value to balance".</summary>
    public string ArgumentsText { get; init; } = "";

    public int MinArguments { get; init; } = 1;

    public int MaxArguments { get; init; } = 1;

    /// <summary>The kind every positional argument must have (after the first <see cref="TensorOrNumberArguments"/>).</summary>
    public ValueKind ArgumentKind { get; init; } = ValueKind.Tensor;

    /// <summary>
    /// Whether the first positional argument is a switch, the name of a bool parameter, field or
    /// property (<c>If</c>), not a value; the others have <see cref="ArgumentKind"/>.
    /// </summary>
    public bool TakesSwitch { get; init; }

    /// <summary>
    /// How many leading positional arguments may be a tensor or a number (the math functions' x
    /// and y); 0 for functions whose arguments all have <see cref="ArgumentKind"/>.
    /// </summary>
    public int TensorOrNumberArguments { get; init; }

    /// <summary>What the function does with its arguments, for the message about an argument of the wrong kind: "it matches …, but this is a plain number".</summary>
    public string ArgumentRole { get; init; } = "";

    /// <summary>Whether the (one) positional argument may be a list, whose elements the function then takes one by one (Balance, Detach): a list in, a list out.</summary>
    public bool Elementwise { get; init; }

    /// <summary>A check of a call whose argument is a list (an option the elementwise form does not support); reports through the checker.</summary>
    public Action<Checker, BoundCall> CheckList { get; init; } = static (_, _) => { };

    public IReadOnlyList<OptionSpec> Options { get; init; } = Array.Empty<OptionSpec>();

    /// <summary>The descriptor of the function's errors (LD0107 for most).</summary>
    public DiagnosticDescriptor Descriptor { get; init; } = Diagnostics.DiagnosticDescriptors.InvalidCall;

    /// <summary>Whether a call keeps state in the loss's state (for some functions, only with an option).</summary>
    public Func<BoundCall, bool> KeepsState { get; init; } = static _ => false;

    /// <summary>The option that makes a call stateful, where only some calls are (Balance's ema:): messages about state point at it.</summary>
    public string? StateOption { get; init; }

    /// <summary>The runtime class (in LossDsl.State) that holds a call's state: EmaBalanceState, DwaState, ….</summary>
    public string? StateClass { get; init; }

    /// <summary>Whether a stateful call keeps running statistics (which skip non-finite observations), not only parameters or the step.</summary>
    public bool KeepsStatistics { get; init; }

    /// <summary>How a message names the stateful use: "Balance(…, ema:)".</summary>
    public string StateDescription { get; init; } = "";

    /// <summary>Checks that need more than arity, kinds and option rules; reports through the checker.</summary>
    public Action<Checker, BoundCall> Check { get; init; } = static (_, _) => { };

    /// <summary>
    /// For a function whose value can be a number (a schedule, a math function of numbers): that
    /// number, built when the call is checked; null when this call's value is a tensor.
    /// </summary>
    public Func<BoundCall, NumberExpr?>? Number { get; init; }

    /// <summary>Lowers a checked call to plan steps; never fails.</summary>
    public Func<Lowerer, BoundCall, LoweredValue> Lower { get; init; } = static (_, _) => throw new InvalidOperationException("no lowering");

    /// <summary>For weighting functions: the stem of the weights' property names (<c>HardDwaWeight</c>); null for the name with its first letter alone upper-case.</summary>
    public string? WeightStem { get; init; }

    /// <summary>For weighting functions: the runtime method the emitter calls.</summary>
    public string? Runtime { get; init; }

    /// <summary>For weighting functions: the explanation line of a step.</summary>
    public Func<WeightingStep, string>? Explain { get; init; }

    /// <summary>
    /// Whether a call takes gradients of its operands (<c>by: Gradient(P)</c>, <c>Anneal</c>,
    /// <c>GradNorm</c>): they must not be switched by <c>If</c>, whose zero has no gradient.
    /// </summary>
    public Func<BoundCall, bool> TakesGradients { get; init; } = static _ => false;

    /// <summary>Whether the function's weights or scales carry no gradient (the explanation's sg(x) note).</summary>
    public bool StopsGradients { get; init; }

    /// <summary>Whether a weighting's total is exactly Σ wᵢ·aᵢ with weights of at least 0 (for the rounding bounds of Balance).</summary>
    public bool IsWeightedSum { get; init; }

    public OptionSpec? Option(string name) => Options.FirstOrDefault(o => o.Name == name);
}
