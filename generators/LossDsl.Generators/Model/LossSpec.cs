using LossDsl.Generators.Diagnostics;

namespace LossDsl.Generators.Model;

// The model that flows through the pipeline: records of strings, numbers and equatable arrays,
// so that an unrelated edit leaves it equal and the emitter does not run again. No ISymbol,
// SyntaxNode, Compilation or Location is held here.

/// <summary>A type with [Loss] methods: one generated file.</summary>
internal sealed record LossTypeSpec(
    string HintName,
    string Namespace,
    EquatableArray<TypeDeclarationSpec> Types,
    EquatableArray<LossMethodSpec> Methods,
    EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>One of the nested type declarations, outermost first; the loss type is the last.</summary>
internal sealed record TypeDeclarationSpec(string Keyword, string Name);

/// <summary>A [Loss] method: its signature and the bound computation.</summary>
internal sealed record LossMethodSpec(
    string Name,
    string Modifiers,
    string ReturnType,
    EquatableArray<ParameterSpec> Parameters,
    ResultTypeSpec? Result,
    string Formula,
    bool CheckFinite,
    EquatableArray<PlanStep> Steps,
    string LossVariable,
    string ScopeVariable,
    string ResultVariable,
    EquatableArray<ResultMemberSpec> Members,
    EquatableArray<string> Explanation,
    StateSpec? State);

/// <summary>
/// The state of a [Loss] method that uses stateful strategies or schedules: the property that
/// holds it, the fingerprint checkpoints must match, and the learnable parameters (name, length).
/// </summary>
internal sealed record StateSpec(string Property, string Field, string Fingerprint, EquatableArray<StateParameterSpec> Parameters);

internal sealed record StateParameterSpec(string Name, int Length);

internal sealed record ParameterSpec(string Modifiers, string Type, string Name);

/// <summary>The result type LossDsl generates; null on a method when it returns the loss only.</summary>
internal sealed record ResultTypeSpec(string Name, string FullName);

/// <summary>A property of the result: a term, a binding or a scale.</summary>
internal sealed record ResultMemberSpec(string Property, string Variable, string MetricKey, string Summary);
