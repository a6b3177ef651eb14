namespace LossDsl.Generators.Model;

// The lowered computation of a [Loss] method, in evaluation order. The lowerer decides what is
// computed and in which order (each term once, each stop-gradient and scale once); the emitter
// decides how each step is written in TorchSharp, and the explanation writer how it reads.
// Everything here is a typed value: numbers stay numbers until the emitter formats them.

/// <summary>
/// A local of the generated method: <see cref="Name"/> is its C# identifier (chosen by the
/// namer), <see cref="Display"/> what it is in the formula's words, for explanations.
/// </summary>
internal sealed record Local(string Name, string Display);

internal abstract record PlanStep;

/// <summary><c>// Kd = Soft + Balance(Feature, to: Soft)</c> before the steps of a formula line.</summary>
internal sealed record CommentStep(string Text) : PlanStep;

/// <summary>How generated code inside the loss type reaches one of its terms or members.</summary>
internal enum ReceiverKind
{
    This,     // this.Name: an instance member that nothing hides
    Static,   // Name: a static member that nothing hides
    Cast,     // ((Type)this).Name: an instance member of a base type, hidden in a derived one
    Base,     // base.Name: the same, when the base type's member is not accessible through a cast (protected)
    TypeName, // Type.Name: a static member of a base type, hidden in a derived one
}

/// <summary>
/// The receiver through which a name binds, in the generated code, to the very member the checker
/// resolved: <see cref="Type"/> is the declaring type, fully qualified, for <see cref="ReceiverKind.Cast"/>
/// and <see cref="ReceiverKind.TypeName"/>.
/// </summary>
internal sealed record Receiver(ReceiverKind Kind, string Type = "")
{
    public static Receiver This { get; } = new(ReceiverKind.This);

    public static Receiver Static { get; } = new(ReceiverKind.Static);
}

/// <summary>
/// Calls a [Term] method once and checks that it returned a 0-dim tensor. <see cref="Arguments"/>
/// are the names of the [Loss] method's parameters passed, in the term's order; when the term has
/// parameters the [Loss] method lacks (they take their defaults), <see cref="ByName"/> passes every
/// argument by name. <see cref="OnlyWhen"/> is the switch of <c>If(switch, Term)</c>: the term is
/// called only when it is on.
/// </summary>
internal sealed record TermStep(Local Variable, string Method, Receiver Receiver, EquatableArray<string> Arguments, bool ByName = false, TermSwitch? OnlyWhen = null) : PlanStep;

/// <summary>
/// The bool parameter or member (<see cref="Kind"/>, reached through <see cref="Via"/>) that switches a
/// term on; when it is off, the term's value is a 0-dim zero on the device of the [Loss] method's
/// Tensor parameter <see cref="Reference"/> (LossDsl.LossRuntime.Off).
/// </summary>
internal sealed record TermSwitch(ExternalKind Kind, string Name, Receiver? Via, string Reference);

/// <summary>
/// Calls a list term once: checks each element (0-dim, floating point, one dtype and device) and
/// keeps them in <see cref="Elements"/> (for the result), and their stack, a 1-dim tensor with one
/// entry per element, in <see cref="Variable"/>: a list is computed with as that 1-dim tensor.
/// </summary>
/// <see cref="Names"/> holds the names of a list whose elements are named. <see cref="ByName"/> and
/// <see cref="OnlyWhen"/> are as for <see cref="TermStep"/>; a switched-off list is one zero.
internal sealed record TermListStep(Local Variable, Local Elements, Local? Names, string Method, Receiver Receiver, EquatableArray<string> Arguments, bool ByName = false, TermSwitch? OnlyWhen = null) : PlanStep;

internal enum ExternalKind
{
    Parameter,
    Member,
    StaticMember,
}

/// <summary>How a parameter or member names the parameters gradients are taken on.</summary>
internal enum ParameterShape
{
    Tensor,     // a Tensor or a Parameter: itself
    Module,     // a Module: its parameters()
    Enumerable, // an enumerable of tensors or parameters: its elements
}

/// <summary>
/// The parameters of <c>Gradient(P)</c> or <c>shared: P</c>: the parameter or member <see cref="Name"/>
/// (reached through <see cref="Via"/>), of <see cref="Shape"/>; only those that require grad are used.
/// </summary>
internal sealed record ParameterSet(ExternalKind Kind, string Name, Receiver? Via, ParameterShape Shape);

/// <summary>Reads a Tensor parameter or member once and checks that it is 0-dim; <see cref="Via"/> reaches a member.</summary>
internal sealed record ExternalTensorStep(Local Variable, ExternalKind Kind, string Name, Receiver? Via = null) : PlanStep;

/// <summary><c>sg(x)</c> for an explicit <c>Detach(x)</c>.</summary>
internal sealed record DetachStep(Local Variable, Local Source) : PlanStep;

/// <summary>
/// <c>|sg(x)|</c>: a magnitude a scale is built from, computed where no gradient is recorded.
/// When x was computed with + or − from other values, <see cref="Bound"/> holds the magnitude of
/// what it was computed from, and |x| counts as 0 within rounding of it (LossDsl.LossRuntime.Significant).
/// </summary>
internal sealed record Magnitude(Local Variable, Local Source, Local? Bound);

/// <summary>
/// The magnitudes a value was computed from (|a| + |b| for a ± b, and so on): its rounding error
/// is at most a few units in the last place of this. Computed with autograd off.
/// </summary>
internal sealed record RoundingBound(Local Variable, TensorExpr Value);

/// <summary>
/// The scale of <c>Balance(x, to: y)</c>: |sg(y)| / |sg(x)| where both exceed <see cref="Epsilon"/>,
/// clamped to [Min, Max] when given, else 1. It and the magnitudes it needs first
/// (<see cref="NewMagnitudes"/>; others were computed for an earlier scale) are computed with
/// autograd off, so no graph is recorded and no gradient flows through the scale.
/// </summary>
internal sealed record ScaleStep(
    Local Variable,
    Local Source,
    Local Target,
    EquatableArray<RoundingBound> NewBounds,
    EquatableArray<Magnitude> NewMagnitudes,
    Local SourceMagnitude,
    Local TargetMagnitude,
    Local? SourceBound,
    Local? TargetBound,
    double Epsilon,
    double? Min,
    double? Max) : PlanStep
{
    /// <summary>The source is a list: one scale per element, each element balanced to the target on its own.</summary>
    public bool PerElement { get; init; }

    /// <summary>With <c>by: Gradient(P)</c>: the magnitudes are the norms of the gradients on these parameters (<see cref="GradientNormStep"/>).</summary>
    public ParameterSet? By { get; init; }

    /// <summary>With <c>stabilizer: δ</c>: the scale is y / (x + δ), without the eps guard.</summary>
    public double? Stabilizer { get; init; }

    /// <summary>The magnitudes are gradient norms nothing else reads: the stabilized scale is computed in place in them.</summary>
    public bool Consume { get; init; }
}

/// <summary>
/// ‖∇_P x‖: the L2 norm of the gradient of <see cref="Source"/> on <see cref="Parameters"/>, taken with
/// autograd.grad (retain_graph, nothing accumulated in .grad), as a 0-dim tensor without gradient
/// (LossDsl.Gradients.Norm). <see cref="Rule"/> is the call that needs it, for the run-time error.
/// </summary>
internal sealed record GradientNormStep(Local Variable, Local Source, ParameterSet Parameters, Local ParameterList, string Rule) : PlanStep;

/// <summary>
/// The parameters of <see cref="Set"/> that require grad, read once per call into <see cref="Variable"/>
/// for the gradient norms that take them (LossDsl.Gradients.FromTensor, FromModule, FromTensors).
/// </summary>
internal sealed record ParametersStep(Local Variable, ParameterSet Set) : PlanStep;

/// <summary>
/// The scale of <c>Anneal(x, to: y, by: Gradient(P), alpha: α)</c>: λ ← (1 − α)λ + α max|∇_P y| / mean|∇_P x|,
/// kept in the loss's state at <see cref="Site"/> (LossDsl.Strategies.Anneal).
/// </summary>
internal sealed record AnnealStep(Local Variable, Local Source, Local Target, ParameterSet Parameters, string Site, double Alpha, double? Min, double? Max, string Rule) : PlanStep;

/// <summary>
/// The scale of <c>Balance(x, to: y, ema: β)</c>: from bias-corrected moving averages of the
/// magnitudes, kept in the loss's state at <see cref="Site"/> (LossDsl.Strategies.EmaScale).
/// <see cref="SourceBound"/> and <see cref="TargetBound"/> are the operands' rounding bounds, when
/// they were computed with + or −, and <see cref="NewBounds"/> the bounds to compute first.
/// </summary>
internal sealed record EmaScaleStep(
    Local Variable,
    Local Source,
    Local Target,
    string Site,
    double Beta,
    double Epsilon,
    double? Min,
    double? Max,
    EquatableArray<RoundingBound> NewBounds,
    Local? SourceBound,
    Local? TargetBound) : PlanStep
{
    /// <summary>
    /// With <c>by: Gradient(P)</c>: the moving averages follow the norms of the gradients on these
    /// parameters instead of |x| and |y| (LossDsl.Strategies.EmaGradientScale, which takes them
    /// only when it can: in evaluation under no_grad it uses the averages alone).
    /// </summary>
    public ParameterSet? By { get; init; }

    /// <summary>The call as written, for run-time errors about gradients.</summary>
    public string Rule { get; init; } = "";

    /// <summary>With <c>stabilizer: δ</c>: the scale is m̂_y / (m̂_x + δ), without the eps guard.</summary>
    public double? Stabilizer { get; init; }
}

/// <summary>
/// The number of observations the state's statistics skipped because they were not finite, over
/// every site, as of this call (LossDsl.LossState.SkippedUpdates), on the device of
/// <see cref="LossVariable"/>. Only in a formula with a site that keeps statistics.
/// </summary>
internal sealed record SkippedUpdatesStep(Local Variable, string LossVariable) : PlanStep;

/// <summary>A numeric option passed to a weighting function's runtime method, by name.</summary>
internal sealed record OptionValue(string Name, double Value, bool IsWhole);

/// <summary>
/// A weighting function (one of the function table's, e.g. <c>Dwa</c>) over
/// <see cref="Arguments"/>: the weighted total in <see cref="Total"/> and one 0-dim weight per
/// argument. <see cref="Site"/> names its place in the loss's state; null when it keeps none.
/// </summary>
internal sealed record WeightingStep(
    string Function,
    Local Total,
    string WeightsVariable,
    EquatableArray<Local> Weights,
    string? Site,
    EquatableArray<Local> Arguments,
    EquatableArray<OptionValue> Options) : PlanStep
{
    /// <summary>GradNorm's <c>shared:</c>, the parameters whose gradients it compares; null for the others.</summary>
    public ParameterSet? Shared { get; init; }

    /// <summary>The call as written, for run-time errors about gradients.</summary>
    public string Rule { get; init; } = "";
}

/// <summary>
/// A tensor value: a binding of the formula (<see cref="Binding"/> is its name, and
/// <see cref="IsLoss"/> marks the last one), or an operand materialised for a function.
/// </summary>
internal sealed record TensorStep(Local Variable, TensorExpr Value, string? Binding = null, bool IsLoss = false) : PlanStep;

/// <summary>
/// A binding that is a plain number. A literal is folded where it is used and has no
/// <see cref="Variable"/>, nor has a binding that nothing reads; any other number is computed once into a local.
/// </summary>
internal sealed record NumberStep(string Binding, Local? Variable, NumberExpr Value) : PlanStep;

/// <summary>Operations of a lowered tensor expression; fused forms come from the lowerer's pattern matching.</summary>
internal enum TensorOp
{
    Variable,
    Alias,       // Left.alias(): the result gets its own handle to a value it must not dispose twice
    Add,         // Left + Right
    Subtract,    // Left - Right
    Multiply,    // Left * Right
    Divide,      // Left / Right
    Negate,      // -Left
    AddNumber,   // Left + Number
    NumberMinus, // Number - Left
    MulNumber,   // Left * Number
    DivNumber,   // Left / Number
    NumberDiv,   // Number / Left
    AddScaled,   // Left + Number * Right            (add with alpha)
    AddProduct,  // Left + Number * Right * Scale    (addcmul)
    Product,     // Left * Scale                     (a balanced value on its own)
    Abs,         // |Left|                           (Abs, and the rounding bounds)
    Sqrt,        // Sqrt(Left)
    Log,         // Log(Left)
    Exp,         // Exp(Left)
    Minimum,     // Min(Left, Right)                 (torch.minimum)
    Maximum,     // Max(Left, Right)                 (torch.maximum)
    MinNumber,   // Min(Left, Number)                (clamp_max)
    MaxNumber,   // Max(Left, Number)                (clamp_min)
    Clamp,       // Clamp(Left, Number, High)
    Pow,         // Left ^ Right
    PowNumber,   // Left ^ Number
    NumberPow,   // Number ^ Left                    (Left is a variable: it is read twice)
    Sum,         // Sum(Left): the elements of a list, added up
    Mean,        // Mean(Left): their mean
}

/// <summary>
/// A lowered tensor expression. <see cref="Variable"/> is the local of <see cref="TensorOp.Variable"/>
/// and the scale of the products; <see cref="Number"/> the numeric operand, and <see cref="High"/>
/// the upper bound of <see cref="TensorOp.Clamp"/>.
/// </summary>
internal sealed record TensorExpr(
    TensorOp Op,
    TensorExpr? Left = null,
    TensorExpr? Right = null,
    Local? Variable = null,
    NumberExpr? Number = null,
    NumberExpr? High = null)
{
    public static TensorExpr Var(Local local) => new(TensorOp.Variable, Variable: local);
}
