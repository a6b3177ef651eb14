using System;

namespace LossDsl;

/// <summary>
/// Declares a loss: the LossDsl source generator implements the partial method this attribute
/// is placed on from <paramref name="formula"/>, a list of bindings whose last one is the loss.
/// </summary>
/// <remarks>
/// <para>
/// A formula is <c>Name = expr</c> bindings, one per line or separated by <c>;</c>, with
/// <c>+ - * /</c>, parentheses and numbers. Names resolve to earlier bindings,
/// <see cref="TermAttribute"/> methods, Tensor or numeric parameters of the method, and numeric
/// fields or properties of the class. Functions (<c>sg</c>: stop-gradient):
/// </para>
/// <list type="bullet">
/// <item><c>Balance(x, to: y)</c>: <c>x · |sg(y)| / |sg(x)|</c>, the scale 1 where either magnitude
/// is at most <c>eps:</c> (1e-8); <c>min:</c> and <c>max:</c> clamp the scale; <c>ema: β</c> takes
/// it from moving averages of the magnitudes.</item>
/// <item><c>Detach(x)</c>: <c>x</c> with its gradient stopped.</item>
/// <item><c>Uncertainty(a, b, …)</c>: weights from one learnable log-variance per term (Kendall et al. 2018).</item>
/// <item><c>Dwa(a, b, …, temperature: T, window: N)</c>: weights from the ratio of each term's last two window means (Liu et al. 2019).</item>
/// <item><c>CoV(a, b, …)</c>: weights from the coefficient of variation of each term's ratio to its running mean (Groenendijk et al. 2021).</item>
/// <item><c>Linear(start, end, steps)</c>, <c>Cosine(start, end, steps)</c>: numbers scheduled over the training step.</item>
/// </list>
/// <para>
/// All but <c>Balance</c> without <c>ema:</c> and <c>Detach</c> keep state in a generated
/// <c>{Method}State</c> property (a <see cref="LossState"/>). The full reference, with what is
/// generated for each construct: docs/language.md (in the repository, and under docs/ in the package).
/// </para>
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
