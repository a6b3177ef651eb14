using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using TorchSharp;

namespace LossDsl;

/// <summary>
/// Helpers that generated losses call. They are public so that generated code in any assembly
/// can reach them, and hidden from IntelliSense because users do not call them directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class LossRuntime
{
    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming <paramref name="name"/> and the shape of
    /// <paramref name="value"/> unless it is a scalar (0-dim) tensor. Reads metadata only: no
    /// host synchronisation.
    /// </summary>
    public static void EnsureScalar([NotNull] torch.Tensor? value, string name, string kind)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Dimensions != 0)
        {
            throw new ArgumentException(
                $"{kind} '{name}' must be a scalar (0-dim) tensor, but it has shape [{string.Join(", ", value.shape)}]. " +
                "Reduce it (for example with .mean()) before it enters the loss.",
                name);
        }
    }

    /// <summary>
    /// Checks a term's value like <see cref="EnsureScalar"/>, and makes it the call's own: a term
    /// that returns a tensor it did not create in this call (its input, a member, a cache) gets an
    /// alias, so disposing the result never disposes the caller's tensor. Reads metadata only.
    /// </summary>
    public static torch.Tensor Term([NotNull] torch.Tensor? value, string name, DisposeScope scope)
    {
        EnsureScalar(value, name, "Term");
        ArgumentNullException.ThrowIfNull(scope);
        return scope.Contains(value) ? value : value.alias();
    }

    /// <summary>
    /// Fetches every value to the host in one transfer: the values are stacked on their device,
    /// converted to float64, and copied once.
    /// </summary>
    public static IReadOnlyDictionary<string, double> FetchMetrics(string[] keys, torch.Tensor[] values)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        if (keys.Length != values.Length)
        {
            throw new ArgumentException($"{keys.Length} metric keys were given for {values.Length} values.", nameof(keys));
        }

        var metrics = new Dictionary<string, double>(keys.Length, StringComparer.Ordinal);
        if (values.Length == 0)
        {
            return metrics;
        }

        // Autograd off: stacking records no graph, so the values need no detach() handles.
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        torch.Tensor host = torch.stack(values).to(torch.ScalarType.Float64, torch.CPU);
        var data = host.data<double>();
        for (int i = 0; i < keys.Length; i++)
        {
            metrics[keys[i]] = data[i];
        }
        return metrics;
    }

    /// <summary>
    /// Throws an <see cref="ArithmeticException"/> naming every value that is NaN or infinite.
    /// Costs one host synchronisation; generated code calls it only when
    /// <see cref="LossAttribute.CheckFinite"/> is set.
    /// </summary>
    public static void EnsureFinite(string[] names, torch.Tensor[] values)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(values);

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        torch.Tensor host = torch.stack(values).isfinite().cpu();
        var flags = host.data<bool>();
        List<string>? bad = null;
        for (int i = 0; i < names.Length; i++)
        {
            if (!flags[i])
            {
                (bad ??= new List<string>()).Add(names[i]);
            }
        }
        if (bad is not null)
        {
            throw new ArithmeticException($"The loss produced non-finite values in: {string.Join(", ", bad)}.");
        }
    }
}
