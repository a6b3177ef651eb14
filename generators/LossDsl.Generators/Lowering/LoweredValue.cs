using LossDsl.Generators.Model;

namespace LossDsl.Generators.Lowering;

/// <summary>What an expression lowers to: a tensor expression or a number.</summary>
internal abstract record LoweredValue;

internal sealed record LoweredTensor(TensorExpr Expr) : LoweredValue;

internal sealed record LoweredNumber(NumberExpr Value) : LoweredValue;
