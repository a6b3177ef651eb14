using LossDsl.Generators.Checking;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Lowering;

// + - * / ^ between tensors and numbers, with the fusions: a ± s·x·scale → addcmul, a ± s·x → add
// with alpha, s1·(s2·x) → (s1·s2)·x.
internal sealed partial class Lowerer
{
    private LoweredValue LowerBinary(BoundBinary binary)
    {
        LoweredValue left = Lower(binary.Left);
        LoweredValue right = Lower(binary.Right);
        return binary.Operator switch
        {
            '+' => new LoweredTensor(Add(left, right, subtract: false)),
            '-' => new LoweredTensor(Add(left, right, subtract: true)),
            '*' => new LoweredTensor(Multiply(left, right)),
            '^' => new LoweredTensor(Power(left, right)),
            _ => new LoweredTensor(Divide(left, right)),
        };
    }

    private static TensorExpr Add(LoweredValue left, LoweredValue right, bool subtract)
    {
        if (left is LoweredNumber number)
        {
            TensorExpr tensor = ((LoweredTensor)right).Expr;
            return new TensorExpr(subtract ? TensorOp.NumberMinus : TensorOp.AddNumber, Left: tensor, Number: number.Value);
        }
        TensorExpr a = ((LoweredTensor)left).Expr;
        if (right is LoweredNumber n)
        {
            return new TensorExpr(TensorOp.AddNumber, Left: a, Number: subtract ? Numbers.Negate(n.Value) : n.Value);
        }
        TensorExpr b = ((LoweredTensor)right).Expr;
        if (TryFuse(a, b, subtract) is TensorExpr fused)
        {
            return fused;
        }
        if (!subtract && TryFuse(b, a, subtract: false) is TensorExpr swapped)
        {
            return swapped;
        }
        return new TensorExpr(subtract ? TensorOp.Subtract : TensorOp.Add, a, b);
    }

    /// <summary><c>a ± s·x·scale</c> → addcmul, <c>a ± s·x</c> → add with alpha; null when neither applies.</summary>
    private static TensorExpr? TryFuse(TensorExpr a, TensorExpr b, bool subtract)
    {
        NumberExpr? factor = null;
        TensorExpr inner = b;
        if (b.Op == TensorOp.MulNumber)
        {
            factor = b.Number!;
            inner = b.Left!;
        }
        if (inner.Op == TensorOp.Product)
        {
            NumberExpr value = factor ?? new NumberConstant(1);
            return new TensorExpr(TensorOp.AddProduct, a, inner.Left, inner.Variable, subtract ? Numbers.Negate(value) : value);
        }
        if (factor is not null)
        {
            return new TensorExpr(TensorOp.AddScaled, a, inner, Number: subtract ? Numbers.Negate(factor) : factor);
        }
        return null;
    }

    private static TensorExpr Multiply(LoweredValue left, LoweredValue right)
    {
        if (left is LoweredNumber)
        {
            (left, right) = (right, left);
        }
        TensorExpr a = ((LoweredTensor)left).Expr;
        if (right is LoweredNumber n)
        {
            if (n.Value.Constant == 1)
            {
                return a;
            }
            // s1·(s2·x) → (s1·s2)·x, folded when both are literals.
            if (a.Op == TensorOp.MulNumber)
            {
                return new TensorExpr(TensorOp.MulNumber, Left: a.Left, Number: Numbers.Combine('*', a.Number!, n.Value));
            }
            return new TensorExpr(TensorOp.MulNumber, Left: a, Number: n.Value);
        }
        return new TensorExpr(TensorOp.Multiply, a, ((LoweredTensor)right).Expr);
    }

    private static TensorExpr Divide(LoweredValue left, LoweredValue right)
    {
        if (left is LoweredNumber number)
        {
            return new TensorExpr(TensorOp.NumberDiv, Left: ((LoweredTensor)right).Expr, Number: number.Value);
        }
        TensorExpr a = ((LoweredTensor)left).Expr;
        return right is LoweredNumber n
            ? new TensorExpr(TensorOp.DivNumber, Left: a, Number: n.Value)
            : new TensorExpr(TensorOp.Divide, a, ((LoweredTensor)right).Expr);
    }
}
