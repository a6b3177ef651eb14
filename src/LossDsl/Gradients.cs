using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl;

/// <summary>What a rule reads from a gradient: its L2 norm, its largest magnitude, or its mean magnitude.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum GradientStatistic
{
    /// <summary>‖g‖₂ over every parameter: √(Σₚ ‖gₚ‖²) (Balance by: Gradient, GradNorm).</summary>
    Norm,

    /// <summary>max |g| over every element of every parameter (Anneal's target).</summary>
    MaxAbs,

    /// <summary>mean |g| over every element of every parameter (Anneal's balanced value).</summary>
    MeanAbs,
}

/// <summary>
/// The gradients that balancing by gradients reads (<c>by: Gradient(P)</c>, <c>GradNorm(…, shared: P)</c>),
/// taken with <c>torch.autograd.grad(…, retain_graph: true)</c> on exactly the parameters P names:
/// nothing accumulates into any <c>.grad</c>, the graph stays for the caller's <c>backward()</c>, and
/// the statistic is computed on the device with autograd off (no host synchronisation). Each
/// gradient is disposed as soon as its statistic is taken. Generated code calls these.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Gradients
{
    /// <summary>The parameters of <c>Gradient(P)</c> for a Parameter or Tensor P: P itself, which must require grad.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parameter"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="parameter"/> does not require grad.</exception>
    public static IReadOnlyList<Tensor> FromTensor(Tensor? parameter, string name)
    {
        ArgumentNullException.ThrowIfNull(parameter, name);
        return Trainable(new[] { parameter }, name);
    }

    /// <summary>The parameters of <c>Gradient(P)</c> for a module P: those of its parameters that require grad (frozen ones are left out).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> is null.</exception>
    /// <exception cref="InvalidOperationException">No parameter of <paramref name="module"/> requires grad.</exception>
    public static IReadOnlyList<Tensor> FromModule(nn.Module? module, string name)
    {
        ArgumentNullException.ThrowIfNull(module, name);
        return Trainable(module.parameters(), name);
    }

    /// <summary>The parameters of <c>Gradient(P)</c> for an enumerable P: those of its elements that require grad.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> or one of its elements is null.</exception>
    /// <exception cref="InvalidOperationException">No element of <paramref name="parameters"/> requires grad.</exception>
    public static IReadOnlyList<Tensor> FromTensors(IEnumerable<Tensor?>? parameters, string name)
    {
        ArgumentNullException.ThrowIfNull(parameters, name);
        var list = new List<Tensor>();
        int index = 0;
        foreach (Tensor? parameter in parameters)
        {
            if (parameter is null)
            {
                throw new ArgumentNullException(name, $"The element {index} of '{name}', whose gradients a rule takes, is null.");
            }
            list.Add(parameter);
            index++;
        }
        return Trainable(list, name);
    }

    private static IReadOnlyList<Tensor> Trainable(IEnumerable<Tensor> parameters, string name)
    {
        var trainable = new List<Tensor>();
        bool any = false;
        foreach (Tensor parameter in parameters)
        {
            any = true;
            if (parameter.requires_grad)
            {
                trainable.Add(parameter);
            }
        }
        if (trainable.Count == 0)
        {
            throw new InvalidOperationException(any
                ? $"'{name}' has no parameter that requires grad (all are frozen, or detached tensors): there is no gradient to balance by. Name the trainable parameters the terms share."
                : $"'{name}' has no parameters: there is no gradient to balance by. Name the parameters the terms share.");
        }
        return trainable;
    }

    /// <summary>
    /// The L2 norm of the gradient of <paramref name="value"/> on <paramref name="parameters"/>, a
    /// 0-dim tensor in <paramref name="value"/>'s dtype on its device, carrying no gradient.
    /// </summary>
    /// <param name="value">A 0-dim tensor computed with autograd on from the parameters.</param>
    /// <param name="parameters">From <see cref="FromTensor"/>, <see cref="FromModule"/> or <see cref="FromTensors"/>.</param>
    /// <param name="valueName">How the formula writes <paramref name="value"/>, for the exception.</param>
    /// <param name="parametersName">How the formula writes the parameters.</param>
    /// <param name="rule">The call that takes the gradient, as written (<c>Balance(Gan, to: Rec, by: Gradient(Decoder))</c>).</param>
    /// <exception cref="InvalidOperationException">Autograd is off, or <paramref name="value"/> does not depend on the parameters.</exception>
    public static Tensor Norm(Tensor value, IReadOnlyList<Tensor> parameters, string valueName, string parametersName, string rule)
        => Statistic(value, parameters, GradientStatistic.Norm, valueName, parametersName, rule);

    /// <summary>
    /// <paramref name="statistic"/> of the gradient of <paramref name="value"/> on
    /// <paramref name="parameters"/>; see <see cref="Norm"/>. A parameter <paramref name="value"/>
    /// does not reach has a zero gradient; when it reaches none, this throws naming it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Autograd is off, or <paramref name="value"/> does not depend on the parameters.</exception>
    public static Tensor Statistic(Tensor value, IReadOnlyList<Tensor> parameters, GradientStatistic statistic, string valueName, string parametersName, string rule)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(parameters);
        if (!is_grad_enabled())
        {
            throw new InvalidOperationException(
                $"{rule} takes the gradient of '{valueName}' on '{parametersName}', but the loss was called with autograd off (inside torch.no_grad()). " +
                "Call it with autograd on; to evaluate without gradients, use a formula without this rule, or eval() the state when the rule keeps one (Anneal, GradNorm, Balance with ema:), which then uses its last value.");
        }
        if (!value.requires_grad)
        {
            throw new InvalidOperationException(
                $"{rule} takes the gradient of '{valueName}' on '{parametersName}', but '{valueName}' does not depend on '{parametersName}': it carries no gradient at all (it was computed from detached tensors or under no_grad).");
        }
        using DisposeScope scope = NewDisposeScope();
        IList<Tensor> gradients = autograd.grad(new[] { value }, parameters is IList<Tensor> list ? list : parameters.ToList(), retain_graph: true, allow_unused: true);
        var used = gradients.Where(g => g is not null && !g.IsInvalid).ToList();
        if (used.Count == 0)
        {
            throw new InvalidOperationException(
                $"{rule} takes the gradient of '{valueName}' on '{parametersName}', but '{valueName}' does not depend on '{parametersName}': none of its {parameters.Count} parameter(s) is used to compute it. " +
                "Name parameters the term is computed from.");
        }
        using (no_grad())
        {
            Tensor result = statistic switch
            {
                GradientStatistic.Norm => used.Count == 1 ? linalg.vector_norm(used[0]) : linalg.vector_norm(stack(used.Select(g => linalg.vector_norm(g)))),
                GradientStatistic.MaxAbs => used.Count == 1 ? used[0].abs().max() : stack(used.Select(g => g.abs().max())).max(),
                GradientStatistic.MeanAbs => stack(used.Select(g => g.abs().sum())).sum().div_(parameters.Sum(p => p.numel())),
                _ => throw new ArgumentOutOfRangeException(nameof(statistic)),
            };
            // In the value's dtype; no new tensor when it already is.
            return scope.MoveToOuter(result.dtype == value.dtype ? result : result.to(value.dtype));
        }
    }
}
