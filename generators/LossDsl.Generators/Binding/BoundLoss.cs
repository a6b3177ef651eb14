using System.Collections.Generic;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;

namespace LossDsl.Generators.Binding;

/// <summary>What the binder made of a formula: the plan and the result's members, or errors.</summary>
internal sealed class BoundLoss(
    IReadOnlyList<PlanStep> steps,
    string lossVariable,
    string scopeVariable,
    string resultVariable,
    IReadOnlyList<ResultMemberSpec> members,
    IReadOnlyList<string> explanation,
    IReadOnlyList<BindError> errors)
{
    public IReadOnlyList<PlanStep> Steps { get; } = steps;
    public string LossVariable { get; } = lossVariable;
    public string ScopeVariable { get; } = scopeVariable;
    public string ResultVariable { get; } = resultVariable;
    public IReadOnlyList<ResultMemberSpec> Members { get; } = members;
    public IReadOnlyList<string> Explanation { get; } = explanation;
    public IReadOnlyList<BindError> Errors { get; } = errors;

    /// <summary>True when nothing may be generated: errors, or a term whose declaration is invalid.</summary>
    public bool Failed { get; init; }

    /// <summary>The [Term] methods the formula calls, for the unused-term warning.</summary>
    public IReadOnlyCollection<string> UsedTerms { get; init; } = new string[0];

    /// <summary>The loss's state, when the formula uses a stateful strategy or a schedule.</summary>
    public StateSpec? State { get; init; }

    /// <summary>The [Loss] method's parameters the formula or its terms use, for the unused-parameter warning.</summary>
    public IReadOnlyCollection<string> UsedParameters { get; init; } = new string[0];
}

/// <summary>A binding error: the descriptor, the characters of the formula, the message arguments.</summary>
internal sealed record BindError(DiagnosticDescriptor Descriptor, FormulaSpan Span, string[] Arguments);
