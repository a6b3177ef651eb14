using System;

namespace LossDsl;

/// <summary>
/// Marks a method of a loss class as a term of its formulas. A term returns a scalar (0-dim)
/// <see cref="TorchSharp.torch.Tensor"/>; its parameters are bound by name and type to the
/// parameters of the <see cref="LossAttribute"/> method that uses it. Each term a formula
/// references is called exactly once per call of the loss.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class TermAttribute : Attribute
{
}
