using LossDsl.Generators.Model;

namespace LossDsl.Generators.Checking;

// What the binder needs to know about the declarations around a formula, extracted from the
// symbols by the parser: plain values with value equality and no source positions, so that the
// formula step (parse, check, lower) is skipped when they compare equal after an edit.

internal enum ValueKind
{
    Tensor,
    Number,
    /// <summary>A list of 0-dim tensors, one per element (a list term), whose length is known only at call time.</summary>
    List,
    /// <summary>Parameters that gradients are taken on: <c>Gradient(P)</c> in <c>by:</c>, or GradNorm's <c>shared:</c>.</summary>
    Parameters,
    Other,
}

/// <summary>
/// A parameter of the [Loss] method, or of a [Term] method. <see cref="Type"/> identifies the type
/// for matching (fully qualified, nullable annotations ignored); <see cref="DisplayType"/> is how
/// messages show it. <see cref="MayBeNull"/>: the parameter is declared nullable (<c>Tensor?</c>,
/// <c>[AllowNull]</c>), so a [Loss] method's argument may be null; <see cref="AcceptsNull"/>: a
/// [Term] method's parameter is not declared non-nullable, so null may be passed to it.
/// <see cref="IsOptional"/>: a [Term] method's parameter that a call may leave out (a default value,
/// <c>[Optional]</c> or <c>params</c>); one the [Loss] method does not have takes its default.
/// </summary>
internal sealed record ParameterInfo(string Name, string Type, string DisplayType, ValueKind Kind, bool IsDouble, bool MayBeNull, bool AcceptsNull, bool IsOptional = false)
{
    /// <summary>What gradients may be taken on, when the parameter is a Tensor, a Module or an enumerable of tensors; null otherwise.</summary>
    public ParameterShape? Shape { get; init; }
}

/// <summary>
/// A [Term] method of the loss type or a base. <see cref="Problem"/> says what is wrong with its
/// declaration (reported at the declaration), or why generated code cannot call it; a formula
/// that uses such a term generates nothing. <see cref="Receiver"/> is how generated code calls it.
/// </summary>
internal sealed record TermInfo(
    string Name,
    bool IsStatic,
    string? Problem,
    EquatableArray<ParameterInfo> Parameters,
    bool DeclaredInLossType,
    Receiver Receiver)
{
    /// <summary>The term's [Obsolete], if it has one.</summary>
    public ObsoleteInfo? Obsolete { get; init; }

    /// <summary>Whether a readonly [Loss] method calls it without copying a struct: static, or readonly.</summary>
    public bool IsReadOnly { get; init; } = true;
    /// <summary>The term returns one tensor per element (<c>Tensor[]</c> or <c>IReadOnlyList&lt;Tensor&gt;</c>): its value is a list.</summary>
    public bool IsList { get; init; }

    /// <summary>The list term names its elements (<c>IReadOnlyList&lt;(string Name, Tensor Value)&gt;</c>): metric keys use the names.</summary>
    public bool IsNamedList { get; init; }
}

/// <summary>
/// What an [Obsolete] attribute says: its message (empty without one), whether a use is an error,
/// and the diagnostic ID the compiler reports a use under when it is not CS0612/CS0618.
/// </summary>
internal sealed record ObsoleteInfo(string Message, bool IsError, string? DiagnosticId = null);

/// <summary>
/// A field or property of the loss type (or its bases) a formula may read, through
/// <see cref="Receiver"/>; <see cref="Problem"/> says why generated code cannot read it, if it cannot;
/// <see cref="Obsolete"/> is its (or its getter's) [Obsolete].
/// <see cref="IsReadOnly"/>: a readonly [Loss] method reads it without copying a struct (a field, a
/// static member, a property whose getter is readonly).
internal sealed record MemberInfo(string Name, string Type, ValueKind Kind, bool IsDouble, bool IsStatic, Receiver Receiver, string? Problem = null, ObsoleteInfo? Obsolete = null, bool IsReadOnly = true)
{
    /// <summary>What gradients may be taken on, when the member is a Tensor (or Parameter), a Module or an enumerable of tensors; null otherwise.</summary>
    public ParameterShape? Shape { get; init; }
}

/// <summary>
/// Everything around one [Loss] method. <see cref="ValueTypeKind"/> is "struct", "record",
/// "record struct" or "interface" when the loss type is one of those (state needs a class), else null.
/// </summary>
internal sealed record LossDeclaration(
    string TypeName,
    string MethodName,
    bool IsStatic,
    string? ValueTypeKind,
    EquatableArray<ParameterInfo> Parameters,
    EquatableMap<TermInfo> Terms,
    EquatableMap<MemberInfo> Members,
    EquatableArray<string> OtherMethodNames,
    string? MetricsPrefix)
{
    /// <summary>The result type LossDsl generates, when it does: no property may take its name.</summary>
    public string? ResultTypeName { get; init; }

    /// <summary>The [Loss] method is a readonly member of a struct: what it calls should be readonly too.</summary>
    public bool IsReadOnly { get; init; }

    /// <summary>
    /// The [Loss] method or a type around it is [Obsolete]: as in C#, using obsolete members
    /// there is not reported.
    /// </summary>
    public bool InObsoleteContext { get; init; }
}
