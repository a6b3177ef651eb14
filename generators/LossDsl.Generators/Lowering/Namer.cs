using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Lowering;

/// <summary>
/// Names for what the generated method declares: locals that shadow nothing it refers to,
/// result properties that clash with no member of the result, and metric keys that are unique.
/// </summary>
internal sealed class Namer
{
    private readonly NameAllocator _locals = new();
    // ILossResult.Loss is implemented explicitly, so only the result's methods (and object's) are taken.
    private static readonly HashSet<string> s_takenProperties = new(
        LossGenerator.ReservedResultNames.Concat(new[] { LossGenerator.ResultValues, LossGenerator.ResultDisposed, LossGenerator.ResultValue, LossGenerator.ResultNumbers, LossGenerator.ResultLists, LossGenerator.ResultListValues, LossGenerator.ResultList, LossGenerator.ResultListNames }),
        StringComparer.Ordinal);
    // A copy of a set of the same comparer takes its buckets as they are: no rehashing per formula.
    private readonly HashSet<string> _properties = new(s_takenProperties, StringComparer.Ordinal);
    private readonly HashSet<string> _metricKeys = new(StringComparer.Ordinal);
    private readonly string _metricsPrefix;

    public Namer(LossDeclaration declaration)
    {
        _metricsPrefix = declaration.MetricsPrefix ?? "";
        foreach (ParameterInfo parameter in declaration.Parameters)
        {
            _locals.Reserve(parameter.Name);
        }
        foreach (string name in declaration.Terms.Keys.Concat(declaration.Members.Keys).Concat(declaration.OtherMethodNames))
        {
            _locals.Reserve(name);
        }
        if (declaration.ResultTypeName is string resultType)
        {
            _properties.Add(resultType.TrimStart('@')); // a member may not be named like its type
        }
    }

    /// <summary>A local named after <paramref name="preferred"/>, shown as <paramref name="display"/> in explanations.</summary>
    public Local Local(string preferred, string display) => new(_locals.Allocate(preferred), display);

    /// <summary>A local's identifier only (scope, result, weight arrays).</summary>
    public string LocalName(string preferred) => _locals.Allocate(preferred);

    public bool PropertyTaken(string name) => _properties.Contains(name);

    public string Property(string preferred)
    {
        string name = preferred;
        for (int n = 2; !_properties.Add(name); n++)
        {
            name = preferred + n;
        }
        return name;
    }

    /// <summary>prefix + snake_case, made unique: Kd and KD are both "kd" before it.</summary>
    public string MetricKey(string property)
    {
        string key = _metricsPrefix + Naming.Snake(property);
        string unique = key;
        for (int n = 2; !_metricKeys.Add(unique); n++)
        {
            unique = key + n;
        }
        return unique;
    }

    /// <summary>Whether a display text is a plain name (it can become part of a property name).</summary>
    public static bool IsPlainName(string display)
        => display.Length > 0 && (char.IsLetter(display[0]) || display[0] == '_') && display.All(c => char.IsLetterOrDigit(c) || c == '_');
}
