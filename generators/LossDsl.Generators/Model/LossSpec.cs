using LossDsl.Generators.Diagnostics;

namespace LossDsl.Generators.Model;

// The model that flows through the pipeline: records of strings, numbers and equatable arrays,
// so that an unrelated edit leaves it equal and the emitter does not run again. No ISymbol,
// SyntaxNode, Compilation or Location is held here, and no source position either: diagnostics
// travel apart (LossMethodReport), so an edit that only moves a declaration re-runs nothing.

/// <summary>A type with [Loss] methods: one generated file.</summary>
internal sealed record LossTypeSpec(
    string HintName,
    string Namespace,
    EquatableArray<TypeDeclarationSpec> Types,
    EquatableArray<LossMethodSpec> Methods);

/// <summary>
/// One of the nested type declarations, outermost first; the loss type is the last.
/// <see cref="Name"/> is as declared (with the variance of a variant interface's type parameters),
/// <see cref="CrefName"/> without variance.
/// </summary>
internal sealed record TypeDeclarationSpec(string Keyword, string Name, string CrefName);

/// <summary>
/// A [Loss] method: its signature, its result type, and either the lowered computation or, when
/// its declaration or formula has errors, a stub that throws (so the user sees the LD error and
/// nothing else).
/// </summary>
/// <see cref="Implemented"/> is false when C# forbids the implementation (a partial method without
/// an accessibility modifier): only the result type is generated, and the compiler's error stands alone.
internal sealed record LossMethodSpec(
    string Name,
    MethodSignatureSpec Signature,
    ResultTypeSpec? Result,
    LossBody Body,
    bool Implemented = true);

/// <summary>
/// The partial declaration's signature, as the implementation must repeat it.
/// <see cref="DocumentationId"/> is the method's documentation comment ID (<c>M:N.Loss.Compute(TorchSharp.torch.Tensor)</c>),
/// the cref of generated comments: it names one overload, and needs no escaping of keywords or generics.
/// <see cref="IsVararg"/> ends it with <c>__arglist</c>.
/// </summary>
internal sealed record MethodSignatureSpec(
    string Modifiers,
    string ReturnType,
    string TypeParameters,
    EquatableArray<ParameterSpec> Parameters,
    EquatableArray<string> Constraints,
    string DocumentationId,
    bool IsVararg = false);

internal sealed record ParameterSpec(string Modifiers, string Type, string Name);

/// <summary>
/// The result type LossDsl generates beside the loss type. <see cref="Owned"/> is false when
/// another [Loss] method already generates a type of that name (LD0007): this one only uses it.
/// </summary>
internal sealed record ResultTypeSpec(string Name, string FullName, bool Owned = true);

internal enum MemberRole
{
    Loss,
    Binding,
    Term,
    Scale,
    Weight,
    SkippedUpdates,
    Number,   // a number binding that is not a literal (a double, on the host)
    Schedule, // a schedule written inside an expression (a double, on the host)
}

/// <summary>
/// A property of the result: a term, a binding, a scale or a weight. <see cref="Source"/> is the
/// formula line (Loss, Binding), the term's name (Term), or the weighted argument (Weight, with
/// its <see cref="Function"/>); scales are described from their plan step. Numbers (Number:
/// the formula line; Schedule: the schedule as written) are doubles, every other member a tensor.
/// </summary>
internal sealed record ResultMemberSpec(string Property, Local Variable, string MetricKey, MemberRole Role, string Source, string? Function = null)
{
    public bool IsNumber => Role is MemberRole.Number or MemberRole.Schedule;

    /// <summary>For a list (a list term, a binding or scale computed from one): its elements; null for one tensor.</summary>
    public ListElements? List { get; init; }
}

/// <summary>
/// The elements of a list member of the result, in <see cref="Elements"/> (a <c>Tensor[]</c>). A list is
/// computed as a 1-dim tensor (the member's variable), which the result holds; when <see cref="Unbind"/>
/// is set (a computed list) its elements are split from it when the result's property is first read,
/// else (a list term's) they are what the term returned, passed to the result with it.
/// <see cref="Names"/> holds the element names (a <c>string[]</c>) of the list term it comes from, when
/// that term names its elements: the metric keys use them.
/// </summary>
internal sealed record ListElements(Local Elements, bool Unbind, Local? Names = null);

/// <summary>The body of a [Loss] method and the members of its result, loss first.</summary>
internal abstract record LossBody(EquatableArray<ResultMemberSpec> Members);

/// <summary>
/// The generated computation. <see cref="NullChecked"/> are the parameters declared nullable that
/// the computation needs non-null (used as tensors, or passed to a term that does not take null),
/// in declaration order: the method throws an ArgumentNullException before anything runs.
/// </summary>
internal sealed record PlanBody(
    EquatableArray<ResultMemberSpec> Members,
    EquatableArray<PlanStep> Steps,
    string LossVariable,
    string ScopeVariable,
    string ResultVariable,
    bool CheckFinite,
    StateSpec? State,
    EquatableArray<string> NullChecked,
    EquatableArray<string> ObsoleteIds) : LossBody(Members);

/// <summary>
/// A method LossDsl cannot implement: its body throws an InvalidOperationException with
/// <see cref="Message"/>, which names the errors reported at compile time. Its result keeps the
/// members that could be named (the formula's bindings), so code that uses them still compiles.
/// </summary>
internal sealed record StubBody(string Message, EquatableArray<ResultMemberSpec> Members) : LossBody(Members);

/// <summary>
/// The state of a [Loss] method that uses stateful strategies or schedules: the property that
/// holds it, its sites in formula order (each a child module of the LossState), and the local
/// that holds the call's scope (LossState.BeginCall).
/// </summary>
internal sealed record StateSpec(string Property, string Field, EquatableArray<StateSiteSpec> Sites, string CallVariable);

/// <summary>
/// One stateful site: its name in the state (<c>balance0</c>, <c>dwa0</c>, <c>step</c>), the
/// runtime class that holds it (LossDsl.State.{StateClass}), and how many terms it weighs (0 for one).
/// </summary>
internal sealed record StateSiteSpec(string Name, string StateClass, int Length);

/// <summary>
/// What the transform makes of one [Loss] method, for the emission side of the pipeline.
/// <see cref="TypeKey"/> groups the methods of one type; <see cref="Method"/> is null when
/// nothing may be generated for the method (it has a body). When the type cannot take code (not
/// partial, file-local) only the result type is generated; when a copy of earlier generated code
/// is compiled (<see cref="CompiledCopy"/>), nothing is.
/// </summary>
internal sealed record LossMethodModel(
    string TypeKey,
    string HintName,
    string Namespace,
    EquatableArray<TypeDeclarationSpec> Types,
    bool TypeTakesCode,
    LossMethodSpec? Method,
    bool CompiledCopy = false);

/// <summary>
/// What the transform found wrong with one [Loss] method, for the diagnostics side. Type-level
/// findings (a term's declaration, a type that is not partial) are repeated by each method of the
/// type and reported once; the unused-term warning needs every method's <see cref="UsedTerms"/>.
/// </summary>
internal sealed record LossMethodReport(
    string TypeKey,
    string TypeName,
    string MethodName,
    EquatableArray<DiagnosticInfo> Diagnostics,
    EquatableArray<DiagnosticInfo> TypeDiagnostics,
    EquatableArray<TermDeclaration> DeclaredTerms,
    EquatableArray<string> UsedTerms,
    bool Bound,
    string? ResultTypeFullName,
    LocationInfo? ResultTypeLocation);

/// <summary>A [Term] method declared in the loss type, where the unused-term warning points.</summary>
internal sealed record TermDeclaration(string Name, LocationInfo? Location);

/// <summary>Both halves of the transform's answer for one [Loss] method.</summary>
internal sealed record LossMethodResult(LossMethodModel Model, LossMethodReport Report);
