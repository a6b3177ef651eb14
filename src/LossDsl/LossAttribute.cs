using System;

namespace LossDsl;

/// <summary>
/// Declares a loss: the LossDsl source generator implements the partial method this attribute
/// is placed on from <paramref name="formula"/>, a list of bindings whose last one is the loss.
/// </summary>
/// <remarks>
/// The formula language (see docs/language.md): <c>Name = expr</c> per line or separated by
/// <c>;</c>, with <c>+ - * /</c>, parentheses, numbers, <c>Balance(x, to: y, eps:, min:, max:)</c>
/// and <c>Detach(x)</c>. Names resolve to earlier bindings, <see cref="TermAttribute"/> methods,
/// Tensor or numeric parameters of the method, and numeric fields or properties of the class.
/// </remarks>
/// <param name="formula">The formula, checked at compile time.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class LossAttribute(string formula) : Attribute
{
    /// <summary>The formula the generator implements.</summary>
    public string Formula { get; } = formula;

    /// <summary>A prefix put before every key of the result's <c>Metrics()</c>, for example <c>"distill/"</c>.</summary>
    public string? MetricsPrefix { get; set; }

    /// <summary>
    /// When <see langword="true"/>, every call checks that all terms and the loss are finite and
    /// throws an <see cref="ArithmeticException"/> naming each non-finite one. The check costs one
    /// host synchronisation per call; leave it off in the hot path.
    /// </summary>
    public bool CheckFinite { get; set; }
}
