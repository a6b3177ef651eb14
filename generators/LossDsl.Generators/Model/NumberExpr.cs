using System;
using System.Linq;

namespace LossDsl.Generators.Model;

// A plain number of a formula (a hyperparameter, a literal, a schedule), kept as a tree until the
// emitter writes it as C# and the explanation writer as text. Literal arithmetic is folded when
// the tree is built (Numbers), so a constant is a NumberConstant wherever it can be.

internal abstract record NumberExpr
{
    /// <summary>The value when the number is a literal (after folding); otherwise null.</summary>
    public double? Constant => this is NumberConstant constant ? constant.Value : null;
}

/// <summary>A literal; <see cref="Name"/> is the number binding it came from, shown in explanations.</summary>
internal sealed record NumberConstant(double Value, string? Name = null) : NumberExpr;

/// <summary>Where a number is read from at call time.</summary>
internal enum NumberSource
{
    Parameter,      // a numeric parameter of the [Loss] method
    Member,         // an instance field or property of the loss type (read through this.)
    StaticMember,   // a static or const member
    Local,          // a number binding computed once per call into a local
}

/// <summary>
/// A number read at call time. <see cref="Name"/> is how the formula writes it; <see cref="Local"/>
/// is the C# local of a number binding (null for the other sources, which are read by their name).
/// <see cref="IsDouble"/> is false for float, int and long values, which are converted. <see cref="Via"/>
/// reaches a member (<see cref="NumberSource.Member"/>, <see cref="NumberSource.StaticMember"/>).
/// </summary>
internal sealed record NumberRead(NumberSource Source, string Name, bool IsDouble, string? Local = null, Receiver? Via = null) : NumberExpr;

internal sealed record NumberNegate(NumberExpr Operand) : NumberExpr;

/// <summary>|Operand|: the magnitude of a number, for the rounding bounds of a balanced value.</summary>
internal sealed record NumberAbs(NumberExpr Operand) : NumberExpr;

/// <summary><c>Left op Right</c> with op one of <c>+ - * /</c>.</summary>
internal sealed record NumberBinary(char Operator, NumberExpr Left, NumberExpr Right) : NumberExpr;

/// <summary>The math functions of the formula language (Abs of a number is <see cref="NumberAbs"/>).</summary>
internal enum MathFunction
{
    Sqrt,
    Log,
    Exp,
    Abs,
    Min,
    Max,
    Clamp,
    Pow,
}

/// <summary>
/// <c>Function(Arguments)</c> on numbers, computed with System.Math at call time (Clamp as
/// <c>Min(Max(x, lo), hi)</c>, torch.clamp's rule). <c>a ^ b</c> is <see cref="MathFunction.Pow"/>.
/// </summary>
internal sealed record NumberMath(MathFunction Function, EquatableArray<NumberExpr> Arguments) : NumberExpr;

internal enum ScheduleKind
{
    Linear,
    Cosine,
    Piecewise,
}

/// <summary>
/// A schedule's value at the state's current step (LossDsl.Schedules). <see cref="Values"/> are
/// start and end (Linear, Cosine) or the values of the pieces (Piecewise); <see cref="Lengths"/>
/// the number of steps (Linear, Cosine) or the milestones (Piecewise); <see cref="From"/> and
/// <see cref="Warmup"/> the options, null when not given. A length that is not a literal is
/// checked when the loss runs, and named in the runtime's message as the formula writes it.
/// </summary>
internal sealed record ScheduleValue(ScheduleKind Kind, EquatableArray<NumberExpr> Values, EquatableArray<NumberExpr> Lengths, NumberExpr? From, NumberExpr? Warmup) : NumberExpr;

/// <summary>Builds number trees, folding literal arithmetic.</summary>
internal static class Numbers
{
    public static NumberExpr Negate(NumberExpr operand)
        => operand is NumberConstant constant ? new NumberConstant(-constant.Value)
            : operand is NumberNegate negate ? negate.Operand
            : new NumberNegate(operand);

    public static NumberExpr Abs(NumberExpr operand)
        => operand is NumberConstant constant ? new NumberConstant(System.Math.Abs(constant.Value))
            : operand is NumberNegate negate ? Abs(negate.Operand)
            : operand is NumberAbs ? operand
            : new NumberAbs(operand);

    public static NumberExpr Combine(char op, NumberExpr left, NumberExpr right)
    {
        if (left.Constant is double a && right.Constant is double b)
        {
            double folded = op switch { '+' => a + b, '-' => a - b, '*' => a * b, _ => a / b };
            if (!double.IsNaN(folded) && !double.IsInfinity(folded))
            {
                return new NumberConstant(folded);
            }
        }
        return new NumberBinary(op, left, right);
    }

    /// <summary>
    /// A math function of numbers, folded when every argument is a literal and the result is
    /// finite (Log(0) and Sqrt(-1) are left to call time, as 1 / 0 is).
    /// </summary>
    public static NumberExpr Math(MathFunction function, params NumberExpr[] arguments)
    {
        if (function == MathFunction.Abs)
        {
            return Abs(arguments[0]);
        }
        if (arguments.All(a => a.Constant is not null))
        {
            double folded = Evaluate(function, arguments.Select(a => a.Constant!.Value).ToArray());
            if (!double.IsNaN(folded) && !double.IsInfinity(folded))
            {
                return new NumberConstant(folded);
            }
        }
        return new NumberMath(function, arguments.ToEquatableArray());
    }

    /// <summary>What the generated code computes for a math function of numbers, evaluated at generation time.</summary>
    public static double Evaluate(MathFunction function, double[] a) => function switch
    {
        MathFunction.Sqrt => System.Math.Sqrt(a[0]),
        MathFunction.Log => System.Math.Log(a[0]),
        MathFunction.Exp => System.Math.Exp(a[0]),
        MathFunction.Min => System.Math.Min(a[0], a[1]),
        MathFunction.Max => System.Math.Max(a[0], a[1]),
        MathFunction.Clamp => System.Math.Min(System.Math.Max(a[0], a[1]), a[2]),
        MathFunction.Pow => System.Math.Pow(a[0], a[1]),
        _ => throw new InvalidOperationException($"Evaluate does not know {function}."),
    };

    /// <summary>Whether the tree reads the state's step counter.</summary>
    public static bool ReadsStep(NumberExpr? number) => number switch
    {
        null or NumberConstant or NumberRead => false,
        ScheduleValue => true,
        NumberNegate negate => ReadsStep(negate.Operand),
        NumberAbs abs => ReadsStep(abs.Operand),
        NumberBinary binary => ReadsStep(binary.Left) || ReadsStep(binary.Right),
        NumberMath math => math.Arguments.Any(ReadsStep),
        _ => throw new InvalidOperationException($"ReadsStep does not know {number.GetType().Name}."),
    };

    /// <summary>Replaces every read of a number binding by <paramref name="resolve"/>'s answer.</summary>
    public static NumberExpr Rewrite(NumberExpr number, Func<NumberRead, NumberExpr> resolve) => number switch
    {
        NumberRead read => resolve(read),
        NumberNegate negate => Negate(Rewrite(negate.Operand, resolve)),
        NumberAbs abs => Abs(Rewrite(abs.Operand, resolve)),
        NumberBinary binary => Combine(binary.Operator, Rewrite(binary.Left, resolve), Rewrite(binary.Right, resolve)),
        NumberMath math => Math(math.Function, math.Arguments.Select(a => Rewrite(a, resolve)).ToArray()),
        ScheduleValue schedule => schedule with
        {
            Values = schedule.Values.Select(v => Rewrite(v, resolve)).ToEquatableArray(),
            Lengths = schedule.Lengths.Select(l => Rewrite(l, resolve)).ToEquatableArray(),
            From = schedule.From is null ? null : Rewrite(schedule.From, resolve),
            Warmup = schedule.Warmup is null ? null : Rewrite(schedule.Warmup, resolve),
        },
        NumberConstant => number,
        _ => throw new InvalidOperationException($"Rewrite does not know {number.GetType().Name}."),
    };
}
