using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Lowering;

// The math functions (Sqrt, Log, Exp, Abs, Min, Max, Clamp, Pow) and the power operator on
// tensors; on numbers alone they are NumberMath nodes, built by the checker.
internal sealed partial class Lowerer
{
    /// <summary>A math function with at least one tensor argument: one TorchSharp operation.</summary>
    public LoweredValue MathFunctionCall(MathFunction function, BoundCall call)
    {
        // Every argument is lowered first: terms are called in the order they are written.
        var arguments = call.Arguments.Select(Lower).ToList();
        return new LoweredTensor(function switch
        {
            MathFunction.Sqrt => new TensorExpr(TensorOp.Sqrt, Left: TensorOf(arguments[0])),
            MathFunction.Log => new TensorExpr(TensorOp.Log, Left: TensorOf(arguments[0])),
            MathFunction.Exp => new TensorExpr(TensorOp.Exp, Left: TensorOf(arguments[0])),
            MathFunction.Abs => new TensorExpr(TensorOp.Abs, Left: TensorOf(arguments[0])),
            MathFunction.Min => Extreme(arguments[0], arguments[1], TensorOp.Minimum, TensorOp.MinNumber),
            MathFunction.Max => Extreme(arguments[0], arguments[1], TensorOp.Maximum, TensorOp.MaxNumber),
            MathFunction.Clamp => new TensorExpr(TensorOp.Clamp, Left: TensorOf(arguments[0]), Number: NumberOf(arguments[1]), High: NumberOf(arguments[2])),
            MathFunction.Pow => Power(arguments[0], arguments[1]),
            _ => throw new System.InvalidOperationException($"No lowering for {function}."),
        });
    }

    /// <summary>Min or Max of two tensors (torch.minimum, torch.maximum), or of a tensor and a number (clamp_max, clamp_min), in either order.</summary>
    private static TensorExpr Extreme(LoweredValue x, LoweredValue y, TensorOp ofTensors, TensorOp withNumber)
    {
        if (x is LoweredNumber)
        {
            (x, y) = (y, x);
        }
        return y is LoweredNumber number
            ? new TensorExpr(withNumber, Left: TensorOf(x), Number: number.Value)
            : new TensorExpr(ofTensors, TensorOf(x), TensorOf(y));
    }

    /// <summary><c>x ^ p</c> (and Pow(x, p)) with a tensor on at least one side.</summary>
    private TensorExpr Power(LoweredValue x, LoweredValue p)
    {
        if (x is LoweredNumber number)
        {
            // The exponent is read twice (the base is filled in its dtype and device): it gets a variable.
            return new TensorExpr(TensorOp.NumberPow, Left: TensorExpr.Var(Materialize(TensorOf(p), "exponent")), Number: number.Value);
        }
        if (p is LoweredNumber exponent)
        {
            // x ^ 1 is x (its gradient is 1 too), as a product with the literal 1 is: no tensor is made for it.
            return exponent.Value.Constant == 1 ? TensorOf(x) : new TensorExpr(TensorOp.PowNumber, Left: TensorOf(x), Number: exponent.Value);
        }
        return new TensorExpr(TensorOp.Pow, TensorOf(x), TensorOf(p));
    }

    private static TensorExpr TensorOf(LoweredValue value) => ((LoweredTensor)value).Expr;

    private static NumberExpr NumberOf(LoweredValue value) => ((LoweredNumber)value).Value;
}
