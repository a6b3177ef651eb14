using System;
using System.Collections.Generic;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Lowering;

// Rounding bounds for Balance. A value computed with + or − can cancel: Soft + Balance(Feature,
// to: Soft) with a negative Feature is 0 in exact arithmetic, but its float32 rounding residue
// (about 1e-7 of |Soft|) would pass an absolute guard and give a scale of 1e8. So each balanced
// value that was computed from others carries the magnitude it was computed from — |a| + |b| for
// a ± b, and so on through the formula — and its magnitude counts as 0 when it is within rounding
// of that bound (LossDsl.LossRuntime.Significant). A term, an input and a scale are their own bound.
//
// The math functions round only to within an ulp of their own result, so they add no cancellation;
// what they carry is their operands' residue. Abs, Min, Max and Clamp are 1-Lipschitz (they move
// their result by at most what their operand moved), so they keep the operand's bound exactly. Sqrt,
// Log, Exp and powers change an operand's error by their slope: the bound is the first-order
// propagation |f'(a)| · bound(a), the standard rounding-error estimate (a residue within rounding of
// its bound stays so after the function). Where the slope is infinite or undefined (Log or Sqrt of
// an exact 0) the bound is infinite or NaN, and the value counts as 0: the scale is 1, never huge.
internal sealed partial class Lowerer
{
    /// <summary>How each local was computed, for the locals whose value can carry cancellation.</summary>
    private readonly Dictionary<string, TensorExpr> _cancellable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Local> _boundLocals = new(StringComparer.Ordinal);

    /// <summary>The magnitudes |v| (not counted as 0 as residue) earlier scales computed, by value.</summary>
    private readonly Dictionary<string, Local> _plainMagnitudes = new(StringComparer.Ordinal);

    /// <summary>Records how <paramref name="local"/> was computed, when that can cancel.</summary>
    private void Define(Local local, TensorExpr value)
    {
        if (CanCancel(value))
        {
            _cancellable[local.Name] = value;
        }
    }

    /// <summary>A weighted sum Σ wᵢ·aᵢ (weights at least 0) cancels like a sum: its bound is Σ wᵢ·|aᵢ|.</summary>
    private void DefineWeightedSum(Local total, IReadOnlyList<Local> arguments, IReadOnlyList<Local> weights)
    {
        TensorExpr sum = new(TensorOp.Product, TensorExpr.Var(arguments[0]), Variable: weights[0]);
        for (int i = 1; i < arguments.Count; i++)
        {
            sum = new TensorExpr(TensorOp.AddProduct, sum, TensorExpr.Var(arguments[i]), weights[i], new NumberConstant(1));
        }
        Define(total, sum);
    }

    private bool CanCancel(TensorExpr e) => e.Op switch
    {
        TensorOp.Variable => _cancellable.ContainsKey(e.Variable!.Name),
        TensorOp.Add or TensorOp.Subtract or TensorOp.AddNumber or TensorOp.NumberMinus or TensorOp.AddScaled or TensorOp.AddProduct or TensorOp.Sum or TensorOp.Mean => true,
        TensorOp.Multiply or TensorOp.Divide => CanCancel(e.Left!) || CanCancel(e.Right!),
        TensorOp.Alias or TensorOp.Negate or TensorOp.MulNumber or TensorOp.DivNumber or TensorOp.NumberDiv or TensorOp.Product or TensorOp.Abs => CanCancel(e.Left!),
        // A math function cancels nothing itself; it carries its operands' residue.
        TensorOp.Sqrt or TensorOp.Log or TensorOp.Exp or TensorOp.MinNumber or TensorOp.MaxNumber or TensorOp.Clamp or TensorOp.PowNumber or TensorOp.NumberPow => CanCancel(e.Left!),
        TensorOp.Minimum or TensorOp.Maximum or TensorOp.Pow => CanCancel(e.Left!) || CanCancel(e.Right!),
        _ => throw new InvalidOperationException($"CanCancel does not know {e.Op}."),
    };

    /// <summary>
    /// The local holding <paramref name="variable"/>'s rounding bound, with the bounds it needs
    /// first appended to <paramref name="added"/> in dependency order; null when the value cannot
    /// carry cancellation. Iterative, so a chain of thousands of bindings needs no deep stack.
    /// </summary>
    private Local? RoundingBound(Local variable, List<RoundingBound> added)
    {
        if (!_cancellable.ContainsKey(variable.Name))
        {
            return null;
        }
        var pending = new Stack<(Local Variable, bool Expanded)>();
        pending.Push((variable, false));
        while (pending.Count > 0)
        {
            var (current, expanded) = pending.Pop();
            if (_boundLocals.ContainsKey(current.Name))
            {
                continue;
            }
            TensorExpr definition = _cancellable[current.Name];
            if (!expanded)
            {
                pending.Push((current, true));
                foreach (Local dependency in Dependencies(definition))
                {
                    if (!_boundLocals.ContainsKey(dependency.Name))
                    {
                        pending.Push((dependency, false));
                    }
                }
                continue;
            }
            TensorExpr value = BoundOf(definition)!;
            Local bound = _names.Local(current.Name.TrimStart('@') + "Bound", $"bound({current.Display})");
            added.Add(new RoundingBound(bound, value));
            _boundLocals[current.Name] = bound;
        }
        return _boundLocals[variable.Name];
    }

    /// <summary>The cancellable locals an expression reads, whose bounds its bound needs.</summary>
    private IEnumerable<Local> Dependencies(TensorExpr e)
    {
        var stack = new Stack<TensorExpr>();
        stack.Push(e);
        while (stack.Count > 0)
        {
            TensorExpr node = stack.Pop();
            if (node.Op == TensorOp.Variable && _cancellable.ContainsKey(node.Variable!.Name))
            {
                yield return node.Variable;
            }
            if (node.Left is not null)
            {
                stack.Push(node.Left);
            }
            if (node.Right is not null)
            {
                stack.Push(node.Right);
            }
        }
    }

    /// <summary>
    /// The bound of an expression whose cancellable locals already have bound locals: the same
    /// arithmetic on magnitudes, with − as +. Null when the expression cannot cancel.
    /// </summary>
    private TensorExpr? BoundOf(TensorExpr e)
    {
        if (!CanCancel(e))
        {
            return null;
        }
        return e.Op switch
        {
            TensorOp.Variable => TensorExpr.Var(_boundLocals[e.Variable!.Name]),
            TensorOp.Alias or TensorOp.Negate => BoundOf(e.Left!),
            TensorOp.Add or TensorOp.Subtract => new TensorExpr(TensorOp.Add, Magnitude(e.Left!), Magnitude(e.Right!)),
            TensorOp.AddNumber or TensorOp.NumberMinus => new TensorExpr(TensorOp.AddNumber, Magnitude(e.Left!), Number: Numbers.Abs(e.Number!)),
            TensorOp.AddScaled => new TensorExpr(TensorOp.AddScaled, Magnitude(e.Left!), Magnitude(e.Right!), Number: Numbers.Abs(e.Number!)),
            // A scale is at least 0, so |a + s·b·scale| is bounded by |a| + |s|·|b|·scale.
            TensorOp.AddProduct => new TensorExpr(TensorOp.AddProduct, Magnitude(e.Left!), Magnitude(e.Right!), e.Variable, Numbers.Abs(e.Number!)),
            TensorOp.Multiply => new TensorExpr(TensorOp.Multiply, Magnitude(e.Left!), Magnitude(e.Right!)),
            // The error of a quotient is the numerator's bound over the divisor's magnitude (and
            // the quotient's own error when the divisor cancels: |a| · bound(b) / b²).
            TensorOp.Divide => CanCancel(e.Right!)
                ? new TensorExpr(TensorOp.Add,
                    new TensorExpr(TensorOp.Divide, Magnitude(e.Left!), Abs(e.Right!)),
                    new TensorExpr(TensorOp.Divide, new TensorExpr(TensorOp.Multiply, Abs(e.Left!), BoundOf(e.Right!)), new TensorExpr(TensorOp.Multiply, Abs(e.Right!), Abs(e.Right!))))
                : new TensorExpr(TensorOp.Divide, Magnitude(e.Left!), Abs(e.Right!)),
            TensorOp.MulNumber => new TensorExpr(TensorOp.MulNumber, BoundOf(e.Left!), Number: Numbers.Abs(e.Number!)),
            TensorOp.DivNumber => new TensorExpr(TensorOp.DivNumber, BoundOf(e.Left!), Number: Numbers.Abs(e.Number!)),
            // n / b with b cancelling: |n| · bound(b) / b².
            TensorOp.NumberDiv => new TensorExpr(TensorOp.MulNumber,
                new TensorExpr(TensorOp.Divide, BoundOf(e.Left!), new TensorExpr(TensorOp.Multiply, Abs(e.Left!), Abs(e.Left!))), Number: Numbers.Abs(e.Number!)),
            TensorOp.Product => new TensorExpr(TensorOp.Product, BoundOf(e.Left!), Variable: e.Variable),
            // The math functions (see the comment at the top): Abs, Min, Max and Clamp move a value
            // by at most as much as their operands moved, and round nothing, so they keep their
            // operands' bounds (the sum of both for Min and Max of two cancelling tensors).
            TensorOp.Abs or TensorOp.MinNumber or TensorOp.MaxNumber or TensorOp.Clamp => BoundOf(e.Left!),
            TensorOp.Minimum or TensorOp.Maximum => Sum(BoundOf(e.Left!), BoundOf(e.Right!)),
            // The others propagate an operand's error to first order, |f'(a)| · bound(a):
            // Exp(a) · bound(a); bound(a) / |a| for Log; bound(a) / (2 · Sqrt(a)) for Sqrt.
            TensorOp.Exp => new TensorExpr(TensorOp.Multiply, e, BoundOf(e.Left!)),
            TensorOp.Log => new TensorExpr(TensorOp.Divide, BoundOf(e.Left!), Abs(e.Left!)),
            TensorOp.Sqrt => new TensorExpr(TensorOp.MulNumber, new TensorExpr(TensorOp.Divide, BoundOf(e.Left!), e), Number: new NumberConstant(0.5)),
            // a ^ p: |p| · |a ^ p| · bound(a) / |a|; n ^ b: |Log(|n|)| · |n ^ b| · bound(b).
            TensorOp.PowNumber => PowerBaseBound(e, e.Left!, e.Number!),
            TensorOp.NumberPow => new TensorExpr(TensorOp.MulNumber, new TensorExpr(TensorOp.Multiply, Abs(e), BoundOf(e.Left!)),
                Number: Numbers.Abs(Numbers.Math(MathFunction.Log, Numbers.Abs(e.Number!)))),
            // a ^ b, both tensors: the base's part, |b| · |a ^ b| · bound(a) / |a|, plus the exponent's, |a ^ b| · |Log(|a|)| · bound(b).
            TensorOp.Pow => Sum(
                CanCancel(e.Left!) ? new TensorExpr(TensorOp.Divide, new TensorExpr(TensorOp.Multiply, new TensorExpr(TensorOp.Multiply, Abs(e), Abs(e.Right!)), BoundOf(e.Left!)), Abs(e.Left!)) : null,
                CanCancel(e.Right!) ? new TensorExpr(TensorOp.Multiply, new TensorExpr(TensorOp.Multiply, Abs(e), new TensorExpr(TensorOp.Abs, Left: new TensorExpr(TensorOp.Log, Left: Abs(e.Left!)))), BoundOf(e.Right!)) : null),
            // The elements of a list may have both signs: Sum(x) is bounded by Sum(|x|), elementwise bounds where x cancels.
            TensorOp.Sum or TensorOp.Mean => new TensorExpr(e.Op, Magnitude(e.Left!)),
            _ => throw new InvalidOperationException($"BoundOf does not know {e.Op}."),
        };
    }

    /// <summary>The sum of the bounds that exist (at least one does).</summary>
    private static TensorExpr Sum(TensorExpr? a, TensorExpr? b)
        => a is null ? b! : b is null ? a : new TensorExpr(TensorOp.Add, a, b);

    /// <summary>The bound of <c>a ^ p</c> with a number exponent: |p| · |a ^ p| · bound(a) / |a|.</summary>
    private TensorExpr PowerBaseBound(TensorExpr power, TensorExpr a, NumberExpr p)
        => new TensorExpr(TensorOp.MulNumber,
            new TensorExpr(TensorOp.Divide, new TensorExpr(TensorOp.Multiply, Abs(power), BoundOf(a)!), Abs(a)),
            Number: Numbers.Abs(p));

    /// <summary>The bound of a value when it can cancel, else its magnitude.</summary>
    private TensorExpr Magnitude(TensorExpr e) => BoundOf(e) ?? Abs(e);

    /// <summary>|e|: the magnitude an earlier scale already computed for a value, else a new abs().</summary>
    private TensorExpr Abs(TensorExpr e)
        => e.Op == TensorOp.Variable && _plainMagnitudes.TryGetValue(e.Variable!.Name, out Local? magnitude)
            ? TensorExpr.Var(magnitude)
            : new TensorExpr(TensorOp.Abs, Left: e);
}
