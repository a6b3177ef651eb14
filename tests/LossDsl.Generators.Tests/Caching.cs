using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>Assertions about the incremental pipeline's tracked steps (<c>.WithTrackingName</c>).</summary>
public static class Caching
{
    /// <summary>The steps the generator tracks; each must be reported, so a lost tracking name fails.</summary>
    public static readonly string[] TrackedSteps = TrackingNames.All;

    // The driver records a step only when it has run on something: Methods when a [Loss] attribute
    // is LossDsl's, ForeignMethods when one looks like it but is not (either way FormulaInputs and
    // Formulas), and the emission steps only when there is something to emit.

    private static readonly Type[] s_forbidden = { typeof(ISymbol), typeof(SyntaxNode), typeof(Compilation), typeof(Location), typeof(SemanticModel), typeof(SyntaxTree) };

    public static IReadOnlyDictionary<string, IncrementalGeneratorRunStep[]> Steps(GeneratorDriverRunResult result)
    {
        var tracked = result.Results.Single().TrackedSteps;
        bool emitted = result.Results.Single().GeneratedSources.Length > 0;
        var required = new List<string> { TrackingNames.Reports, TrackingNames.Diagnostics };
        if (emitted)
        {
            required.AddRange(new[] { TrackingNames.Models, TrackingNames.LossTypes });
        }
        foreach (string name in required)
        {
            Assert.True(tracked.ContainsKey(name), $"the pipeline no longer tracks the step '{name}'");
        }
        Assert.True(tracked.ContainsKey(TrackingNames.Methods) || tracked.ContainsKey(TrackingNames.ForeignMethods), "the pipeline no longer tracks the step that reads [Loss] methods");
        // Every [Loss] method read goes through the formula step, which must stay tracked.
        foreach (string name in new[] { TrackingNames.FormulaInputs, TrackingNames.Formulas })
        {
            Assert.True(tracked.ContainsKey(name), $"the pipeline no longer tracks the step '{name}'");
        }
        return TrackedSteps.Where(tracked.ContainsKey).ToDictionary(n => n, n => tracked[n].ToArray());
    }

    public static void AssertEveryStepCachedOrUnchanged(GeneratorDriverRunResult result)
    {
        foreach (var (name, steps) in Steps(result))
        {
            foreach (var (_, reason) in steps.SelectMany(s => s.Outputs))
            {
                Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"step '{name}' was {reason} on a second run over the same compilation");
            }
        }
    }

    /// <summary>No step output holds (anywhere inside it) an ISymbol, SyntaxNode, Compilation, Location, …</summary>
    public static void AssertModelHoldsNoCompilerObjects(GeneratorDriverRunResult result)
    {
        foreach (var (name, steps) in Steps(result))
        {
            foreach (var (value, _) in steps.SelectMany(s => s.Outputs))
            {
                Visit(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }
    }

    private static void Visit(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }
        Type type = value.GetType();
        foreach (Type forbidden in s_forbidden)
        {
            Assert.False(forbidden.IsAssignableFrom(type), $"{path} holds a {type.Name}, which is a {forbidden.Name}: the cached model must hold plain values");
        }
        if (value is IEnumerable items)
        {
            int index = 0;
            foreach (object? item in items)
            {
                Visit(item, $"{path}[{index++}]", seen);
            }
            return;
        }
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0 && property.Name != "EqualityContract")
            {
                Visit(property.GetValue(value), $"{path}.{property.Name}", seen);
            }
        }
        foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
        {
            Visit(field.GetValue(value), $"{path}.{field.Name}", seen);
        }
    }
}
