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
    /// <paramref name="value"/> unless it is a scalar (0-dim) tensor, or naming its dtype unless it
    /// is a floating-point one (float16, bfloat16, float32 or float64: a bool, integer or complex
    /// loss has no gradient or no order). Reads metadata only: no host synchronisation.
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
        if (value.dtype is not (torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Float32 or torch.ScalarType.Float64))
        {
            throw new ArgumentException(
                $"{kind} '{name}' must be a floating-point tensor (Float16, BFloat16, Float32 or Float64), but its dtype is {value.dtype}. " +
                "Convert it (for example with .to(ScalarType.Float32)) before it enters the loss.",
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
    /// The value of a term that <c>If(switch, Term)</c> switched off: a 0-dim zero without gradient
    /// on the device of <paramref name="reference"/> (a Tensor parameter of the loss), in float64
    /// when the reference is float64 and float32 otherwise, as terms compute in at least float32.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="reference"/> is null.</exception>
    public static torch.Tensor Off(torch.Tensor reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return torch.zeros(Array.Empty<long>(), reference.dtype == torch.ScalarType.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32, reference.device);
    }

    /// <summary>
    /// The value of a list term that <c>If(switch, Term)</c> switched off: a list of one zero, as
    /// <see cref="Off"/> makes it, and its stack; so its Sum and Mean are 0.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="reference"/> is null.</exception>
    public static (torch.Tensor[] Elements, torch.Tensor Stacked) OffList(torch.Tensor reference)
    {
        torch.Tensor zero = Off(reference);
        return (new[] { zero }, zero.unsqueeze(0));
    }

    /// <summary>
    /// <see cref="OffList"/> for a list term whose elements are named: its one zero is named <c>off</c>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="reference"/> is null.</exception>
    public static (torch.Tensor[] Elements, torch.Tensor Stacked, string[] Names) OffNamedList(torch.Tensor reference)
    {
        var (elements, stacked) = OffList(reference);
        return (elements, stacked, new[] { "off" });
    }

    /// <summary>
    /// Checks the value of a list term (one tensor per layer): the list is not null nor empty,
    /// and each element is a floating-point 0-dim tensor, not null, of the first element's dtype
    /// and device; every message names the term and the index. Elements the call did not create
    /// get an alias, as in <see cref="Term"/>. Returns the elements and their stack, a 1-dim tensor
    /// with one entry per element, through which gradients reach the elements. Reads metadata only.
    /// </summary>
    public static (torch.Tensor[] Elements, torch.Tensor Stacked) TermList([NotNull] IReadOnlyList<torch.Tensor?>? value, string name, DisposeScope scope)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        ArgumentNullException.ThrowIfNull(scope);
        if (value.Count == 0)
        {
            throw new ArgumentException(
                $"Term '{name}' returned an empty list; a list term must return at least one tensor (its Sum and Mean, its metrics and its device need one).",
                name);
        }
        var elements = new torch.Tensor[value.Count];
        for (int i = 0; i < elements.Length; i++)
        {
            torch.Tensor? element = value[i];
            if (element is null)
            {
                throw new ArgumentNullException(name, $"Term '{name}' returned a list whose element {i} is null.");
            }
            EnsureScalar(element, $"{name}[{i}]", "Term");
            if (i > 0 && (element.dtype != elements[0].dtype || element.device_type != elements[0].device_type || element.device_index != elements[0].device_index))
            {
                throw new ArgumentException(
                    $"Term '{name}' returned a list whose element {i} is {element.dtype} on {element.device}, but its element 0 is {elements[0].dtype} on {elements[0].device}. " +
                    "Every element must have the same dtype and device.",
                    name);
            }
            elements[i] = element;
        }
        for (int i = 0; i < elements.Length; i++)
        {
            // Only after every check: a failed call creates nothing that outlives it.
            elements[i] = scope.Contains(elements[i]) ? elements[i] : elements[i].alias();
        }
        return (elements, torch.stack(elements));
    }

    /// <summary>
    /// Checks the value of a list term whose elements are named, as
    /// <see cref="TermList(IReadOnlyList{torch.Tensor}, string, DisposeScope)"/> does, and its names: each
    /// is neither null nor empty, and no two are the same. Returns the names too, for the metric keys.
    /// Generated code passes the term's value with <c>!</c>, so a term that declares its names or
    /// elements non-nullable or nullable converts without a warning.
    /// </summary>
    public static (torch.Tensor[] Elements, torch.Tensor Stacked, string[] Names) TermList([NotNull] IReadOnlyList<(string? Name, torch.Tensor? Value)>? value, string name, DisposeScope scope)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        var names = new string[value.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            string? elementName = value[i].Name;
            if (string.IsNullOrEmpty(elementName))
            {
                throw new ArgumentException($"Term '{name}' returned a list whose element {i} has no name; name every element, or return Tensor[].", name);
            }
            if (seen.TryGetValue(elementName, out int first))
            {
                throw new ArgumentException($"Term '{name}' returned a list whose elements {first} and {i} are both named '{elementName}'; each element needs a name of its own.", name);
            }
            seen[elementName] = i;
            names[i] = elementName;
        }
        var values = new torch.Tensor?[names.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = value[i].Value;
        }
        var (elements, stacked) = TermList(values, name, scope);
        return (elements, stacked, names);
    }

    /// <summary>
    /// Fetches every value to the host in one transfer, as <see cref="FetchMetrics(string[], torch.Tensor[])"/>,
    /// with lists, each a 1-dim tensor with one entry per element: after the values, each list's
    /// elements under <c>{listKey}/{index}</c>, or <c>{listKey}/{name}</c> for a list whose elements
    /// are named (<paramref name="listNames"/>: the names of each list, or null), in order. The keys of
    /// the lists are built on each call, since a list's length may change from call to call. The
    /// values and the lists are joined on their device and copied once.
    /// </summary>
    public static IReadOnlyDictionary<string, double> FetchMetrics(string[] keys, torch.Tensor[] values, string[] listKeys, torch.Tensor[] lists, string[]?[] listNames)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(listKeys);
        ArgumentNullException.ThrowIfNull(lists);
        ArgumentNullException.ThrowIfNull(listNames);
        if (keys.Length != values.Length)
        {
            throw new ArgumentException($"{keys.Length} metric keys were given for {values.Length} values.", nameof(keys));
        }
        if (listKeys.Length != lists.Length || listNames.Length != lists.Length)
        {
            throw new ArgumentException($"{listKeys.Length} metric keys and {listNames.Length} name lists were given for {lists.Length} lists.", nameof(listKeys));
        }
        var allKeys = new List<string>(keys);
        for (int i = 0; i < lists.Length; i++)
        {
            if (lists[i].dim() != 1 || (listNames[i] is string[] names && names.Length != lists[i].shape[0]))
            {
                throw new ArgumentException($"The list '{listKeys[i]}' has shape [{string.Join(", ", lists[i].shape)}]{(listNames[i] is null ? "" : $" and {listNames[i]!.Length} names")}: one entry per element is needed.", nameof(lists));
            }
            for (int j = 0; j < lists[i].shape[0]; j++)
            {
                allKeys.Add(listKeys[i] + "/" + (listNames[i]?[j] ?? j.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        var metrics = new Dictionary<string, double>(allKeys.Count, StringComparer.Ordinal);
        // Autograd off: joining records no graph. One float64 tensor on the device, one copy to the host.
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var parts = new List<torch.Tensor>(lists.Length + 1);
        if (values.Length > 0)
        {
            parts.Add(torch.stack(values).to(torch.ScalarType.Float64));
        }
        foreach (torch.Tensor list in lists)
        {
            parts.Add(list.to(torch.ScalarType.Float64));
        }
        if (parts.Count == 0)
        {
            return metrics;
        }
        var data = torch.cat(parts).cpu().data<double>();
        for (int i = 0; i < allKeys.Count; i++)
        {
            metrics[allKeys[i]] = data[i];
        }
        return metrics;
    }

    /// <summary>
    /// The elements of a list computed as a 1-dim tensor, as 0-dim views owned by the caller (in no
    /// dispose scope): what a result's list property returns, made when it is first read.
    /// </summary>
    public static torch.Tensor[] Elements(torch.Tensor list)
    {
        ArgumentNullException.ThrowIfNull(list);
        using var scope = torch.NewDisposeScope();
        torch.Tensor[] elements = list.unbind();
        scope.Detach(elements);
        return elements;
    }

    /// <summary>
    /// Fetches every value to the host in one transfer, with lists as
    /// <see cref="FetchMetrics(string[], torch.Tensor[], string[], torch.Tensor[], string[][])"/> does,
    /// and adds <paramref name="numbers"/>, which are already on the host, under <paramref name="numberKeys"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, double> FetchMetrics(string[] keys, torch.Tensor[] values, string[] listKeys, torch.Tensor[] lists, string[]?[] listNames, string[] numberKeys, double[] numbers)
    {
        CheckNumbers(numberKeys, numbers);
        return WithNumbers(FetchMetrics(keys, values, listKeys, lists, listNames), numberKeys, numbers);
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
    /// Fetches every tensor value to the host in one transfer, as <see cref="FetchMetrics(string[], torch.Tensor[])"/>
    /// does, and adds <paramref name="numbers"/>, which are already on the host, under <paramref name="numberKeys"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, double> FetchMetrics(string[] keys, torch.Tensor[] values, string[] numberKeys, double[] numbers)
    {
        CheckNumbers(numberKeys, numbers);
        return WithNumbers(FetchMetrics(keys, values), numberKeys, numbers);
    }

    /// <summary>Before anything is fetched: as many number keys as numbers.</summary>
    private static void CheckNumbers(string[] numberKeys, double[] numbers)
    {
        ArgumentNullException.ThrowIfNull(numberKeys);
        ArgumentNullException.ThrowIfNull(numbers);
        if (numberKeys.Length != numbers.Length)
        {
            throw new ArgumentException($"{numberKeys.Length} metric keys were given for {numbers.Length} numbers.", nameof(numberKeys));
        }
    }

    /// <summary>The fetched values with the numbers, which are on the host already, added under their keys.</summary>
    private static IReadOnlyDictionary<string, double> WithNumbers(IReadOnlyDictionary<string, double> fetched, string[] numberKeys, double[] numbers)
    {
        var metrics = (Dictionary<string, double>)fetched;
        for (int i = 0; i < numberKeys.Length; i++)
        {
            metrics.Add(numberKeys[i], numbers[i]);
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

    /// <summary>
    /// How close to 0, relative to the magnitudes it was computed from, a value is rounding
    /// residue: 1e-5 for float32 and float64 (so both dtypes decide alike; float32's rounding of a
    /// sum of a few dozen values stays below it), 8 units in the last place for float16 (7.8e-3)
    /// and bfloat16 (6.3e-2).
    /// </summary>
    public static double RoundingTolerance(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float16 => 8 * 0.0009765625,
        torch.ScalarType.BFloat16 => 8 * 0.0078125,
        _ => 1e-5,
    };

    /// <summary>
    /// <paramref name="magnitude"/> (|x|, a fresh tensor, changed in place), or 0 where it is at
    /// most <see cref="RoundingTolerance"/> times <paramref name="bound"/>, the magnitudes x was
    /// computed from: such an x is rounding residue of a cancellation, not a loss to balance.
    /// Runs on the device; call it with autograd off.
    /// </summary>
    public static torch.Tensor Significant(torch.Tensor magnitude, torch.Tensor bound)
    {
        ArgumentNullException.ThrowIfNull(magnitude);
        ArgumentNullException.ThrowIfNull(bound);
        // One temporary: the threshold becomes, in place, 1 where the magnitude exceeds it and 0
        // where it does not; multiplying keeps a NaN magnitude NaN.
        using var keep = bound.mul(RoundingTolerance(magnitude.dtype)).lt_(magnitude);
        return magnitude.mul_(keep);
    }

    /// <summary>
    /// The scale of <c>Balance</c>: <paramref name="targetMagnitude"/> / <paramref name="sourceMagnitude"/>,
    /// clamped to [<paramref name="min"/>, <paramref name="max"/>] when given and always to the
    /// dtype's positive normal range (so a scale is never 0 by underflow nor infinite by overflow),
    /// and 1 where either magnitude is at most <paramref name="epsilon"/>. NaN stays NaN. Runs on
    /// the device; call it with autograd off.
    /// </summary>
    public static torch.Tensor BalanceScale(torch.Tensor sourceMagnitude, torch.Tensor targetMagnitude, double epsilon, double? min = null, double? max = null)
    {
        ArgumentNullException.ThrowIfNull(sourceMagnitude);
        ArgumentNullException.ThrowIfNull(targetMagnitude);
        torch.Tensor scale = targetMagnitude.div(sourceMagnitude);
        if (min is double low)
        {
            scale.clamp_min_(low);
        }
        if (max is double high)
        {
            scale.clamp_max_(high);
        }
        var (smallest, largest) = NormalRange(scale.dtype);
        scale.clamp_(smallest, largest);
        using var smaller = sourceMagnitude.minimum(targetMagnitude);
        using var vanishing = smaller.le(epsilon);
        return scale.masked_fill_(vanishing, 1.0);
    }

    /// <summary>
    /// The scale of <c>Balance(x, to: y, stabilizer: δ)</c>: targetMagnitude / (sourceMagnitude + δ),
    /// clamped to [min, max] when given; called with autograd off, as <see cref="BalanceScale"/> is. Unlike it, it has
    /// no eps guard and no clamp to the dtype's range: δ &gt; 0 keeps the ratio finite, as in VQGAN's
    /// adaptive weight (Esser et al. 2021), which this reproduces exactly with δ = 1e-4, max 1e4.
    /// </summary>
    /// <param name="sourceMagnitude">|x| or ‖∇x‖.</param>
    /// <param name="targetMagnitude">|y| or ‖∇y‖.</param>
    /// <param name="stabilizer">δ, greater than 0.</param>
    /// <param name="min">The smallest scale, when given.</param>
    /// <param name="max">The largest scale, when given.</param>
    /// <param name="consume">
    /// The magnitudes are this call's own and nothing reads them after (generated code knows): the
    /// scale is computed in place in <paramref name="targetMagnitude"/>, with the same rounding, and
    /// no tensor is created.
    /// </param>
    public static torch.Tensor StabilizedScale(torch.Tensor sourceMagnitude, torch.Tensor targetMagnitude, double stabilizer, double? min = null, double? max = null, bool consume = false)
    {
        ArgumentNullException.ThrowIfNull(sourceMagnitude);
        ArgumentNullException.ThrowIfNull(targetMagnitude);
        torch.Tensor scale = consume
            ? targetMagnitude.div_(sourceMagnitude.add_(stabilizer))
            : targetMagnitude.div(sourceMagnitude.add(stabilizer));
        if (min is double low)
        {
            scale.clamp_min_(low);
        }
        if (max is double high)
        {
            scale.clamp_max_(high);
        }
        return scale;
    }

    private static (double Smallest, double Largest) NormalRange(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float16 => (6.103515625e-05, 65504.0),
        torch.ScalarType.BFloat16 => (1.1754943508222875e-38, 3.3895313892515355e+38),
        torch.ScalarType.Float32 => (1.1754943508222875e-38, 3.4028234663852886e+38),
        _ => (2.2250738585072014e-308, double.MaxValue),
    };
}
