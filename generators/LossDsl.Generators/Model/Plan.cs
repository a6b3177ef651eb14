namespace LossDsl.Generators.Model;

// The bound computation of a [Loss] method, in evaluation order. The binder decides what is
// computed and in which order (each term once, each stop-gradient and scale once); the emitter
// decides how each step is written in TorchSharp.

internal abstract record PlanStep;

/// <summary><c>// Kd = Soft + Balance(Feature, to: Soft)</c> before the steps of a formula line.</summary>
internal sealed record CommentStep(string Text) : PlanStep;

/// <summary>Calls a [Term] method once and checks that it returned a 0-dim tensor.</summary>
internal sealed record TermStep(string Variable, string Receiver, string Method, EquatableArray<string> Arguments) : PlanStep;

/// <summary>Reads a Tensor parameter or member once and checks that it is 0-dim.</summary>
internal sealed record ExternalTensorStep(string Variable, string Expression, string Name, string Kind) : PlanStep;

/// <summary><c>|sg(x)|</c>: a magnitude a scale is built from, computed where no gradient is recorded.</summary>
internal sealed record Magnitude(string Variable, string Source);

/// <summary><c>sg(x)</c> for an explicit <c>Detach(x)</c>.</summary>
internal sealed record DetachStep(string Variable, string Source) : PlanStep;

/// <summary>
/// The scale of <c>Balance(x, to: y)</c>: |sg(y)| / |sg(x)| where both exceed <see cref="Epsilon"/>,
/// clamped to [Min, Max] when given, else 1. It and the magnitudes it needs first
/// (<see cref="NewMagnitudes"/>; others were computed for an earlier scale) are computed with
/// autograd off, so no graph is recorded and no gradient flows through the scale.
/// </summary>
internal sealed record ScaleStep(
    string Variable,
    EquatableArray<Magnitude> NewMagnitudes,
    string SourceMagnitude,
    string TargetMagnitude,
    string Epsilon,
    string? Min,
    string? Max) : PlanStep;

/// <summary>
/// The scale of <c>Balance(x, to: y, ema: β)</c>: from bias-corrected moving averages of the
/// magnitudes, kept in the loss's state at <see cref="Site"/> (LossDsl.Strategies.EmaScale).
/// </summary>
internal sealed record EmaScaleStep(string Variable, string Source, string Target, string Site, string Beta, string Epsilon, string? Min, string? Max) : PlanStep;

/// <summary>
/// <c>Uncertainty</c>, <c>Dwa</c> or <c>CoV</c> over <see cref="Arguments"/>: the weighted total in
/// <see cref="Variable"/> and one 0-dim weight per argument (LossDsl.Strategies.{Kind}).
/// </summary>
internal sealed record StrategyStep(
    string Kind,
    string Variable,
    string WeightsVariable,
    EquatableArray<string> Weights,
    string Site,
    EquatableArray<string> Arguments,
    string Options) : PlanStep;

/// <summary>A tensor value: a binding of the formula, or an operand materialised for Balance or Detach.</summary>
internal sealed record TensorStep(string Variable, TensorExpr Value) : PlanStep;

/// <summary>A binding that is a plain number (no tensor in it).</summary>
internal sealed record NumberStep(string Variable, string Expression) : PlanStep;

/// <summary>Operations of a lowered tensor expression; fused forms come from the binder's pattern matching.</summary>
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
}

/// <summary>
/// A lowered tensor expression. <see cref="Code"/> and <see cref="Display"/> name a variable (for
/// <see cref="TensorOp.Variable"/> and the scale of products); <see cref="Number"/> is the C#
/// expression of a numeric operand and <see cref="NumberDisplay"/> how the formula writes it.
/// </summary>
internal sealed record TensorExpr(
    TensorOp Op,
    TensorExpr? Left = null,
    TensorExpr? Right = null,
    string? Code = null,
    string? Display = null,
    string? Number = null,
    string? NumberDisplay = null)
{
    public static TensorExpr Var(string code, string display) => new(TensorOp.Variable, Code: code, Display: display);
}
