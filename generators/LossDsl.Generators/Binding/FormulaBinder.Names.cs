using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Binding;

// Name resolution: bindings, [Term] methods, parameters and members of the loss type.
internal sealed partial class FormulaBinder
{
    private Value Resolve(string name, FormulaSpan span)
    {
        if (_bindings.TryGetValue(name, out Value? bound))
        {
            return bound;
        }
        if (_bindingLines.TryGetValue(name, out int line) && line >= _currentLine)
        {
            Report(DiagnosticDescriptors.UsedBeforeDefined, span, name, line == _currentLine
                ? ": a binding cannot use itself"
                : "; move its definition above this line");
            return ErrorValue.Instance;
        }
        if (_externals.TryGetValue(name, out Value? external))
        {
            return external;
        }

        _declaration.Terms.TryGetValue(name, out TermInfo? term);
        ParameterInfo? parameter = _declaration.Parameters.FirstOrDefault(p => p.Name == name);
        _declaration.Members.TryGetValue(name, out MemberInfo? member);

        var meanings = new List<string>();
        if (term is not null) meanings.Add($"the [Term] method '{name}'");
        if (parameter is not null) meanings.Add($"the parameter '{name}'");
        if (member is not null) meanings.Add($"the member '{name}'");
        if (meanings.Count > 1)
        {
            Report(DiagnosticDescriptors.AmbiguousName, span, name, string.Join(" and ", meanings));
            return ErrorValue.Instance;
        }

        Value? value =
            term is not null ? CallTerm(term, span) :
            parameter is not null ? UseParameter(parameter, span) :
            member is not null ? UseMember(member, span) :
            null;
        if (value is null)
        {
            ReportUnknownName(name, span);
            value = ErrorValue.Instance;
        }
        _externals[name] = value;
        return value;
    }

    private void ReportUnknownName(string name, FormulaSpan span)
    {
        string hint;
        if (_declaration.OtherMethodNames.Contains(name))
        {
            hint = $"; to use the method '{name}' as a term, mark it with [Term]";
        }
        else
        {
            var candidates = _bindings.Keys.Where(k => _bindings[k] is not ErrorValue)
                .Concat(_declaration.Terms.Keys)
                .Concat(_declaration.Parameters.Where(p => p.Kind != ValueKind.Other).Select(p => p.Name))
                .Concat(_declaration.Members.Values.Where(m => m.Kind != ValueKind.Other).Select(m => m.Name));
            string? closest = Closest(name, candidates);
            hint = closest is null ? "" : $"; did you mean '{closest}'?";
        }
        Report(DiagnosticDescriptors.UnknownName, span, name, _declaration.TypeName, hint);
    }

    private Value CallTerm(TermInfo term, FormulaSpan span)
    {
        if (term.Problem is not null)
        {
            // A term of the loss type is reported at its declaration; one inherited from a base
            // type (maybe in another project) is reported here, where the formula uses it.
            _usesInvalidTerm = true;
            if (!term.DeclaredInLossType)
            {
                Report(DiagnosticDescriptors.InvalidTerm, span, term.Name, term.Problem);
            }
            return ErrorValue.Instance;
        }
        string? problem = null;
        var arguments = new List<string>();
        foreach (ParameterInfo needed in term.Parameters)
        {
            ParameterInfo? supplied = _declaration.Parameters.FirstOrDefault(p => p.Name == needed.Name);
            if (problem is null && (supplied is null || supplied.Type != needed.Type))
            {
                problem = $"needs the parameter '{needed.DisplayType} {needed.Name}', which the [Loss] method '{_declaration.MethodName}' does not have" +
                    (supplied is null ? "" : $" (its '{needed.Name}' has type '{supplied.DisplayType}')");
            }
            arguments.Add(Naming.Identifier(needed.Name));
        }
        if (problem is not null)
        {
            Report(DiagnosticDescriptors.InvalidTerm, span, term.Name, problem);
            return ErrorValue.Instance;
        }
        if (!CheckStaticAccess(term.IsStatic, term.Name, span))
        {
            return ErrorValue.Instance;
        }

        _usedTerms.Add(term.Name);
        foreach (ParameterInfo parameter in term.Parameters)
        {
            _usedParameters.Add(parameter.Name);
        }
        string variable = _locals.Allocate(Naming.Identifier(Naming.Camel(term.Name)));
        _steps.Add(new TermStep(variable, term.IsStatic ? "" : "this", term.Name, arguments.ToEquatableArray()));
        string property = ClaimProperty(Naming.Pascal(term.Name));
        _terms.Add(new ResultMemberSpec(property, variable, MetricKey(property), $"The term <c>{term.Name}</c>."));
        _explanation.Add($"{term.Name} = {term.Name}({string.Join(", ", term.Parameters.Select(p => p.Name))})   [term, called once]");
        return new TensorValue(TensorExpr.Var(variable, term.Name));
    }

    private Value? UseParameter(ParameterInfo parameter, FormulaSpan span)
    {
        _usedParameters.Add(parameter.Name);
        switch (parameter.Kind)
        {
            case ValueKind.Tensor:
                string identifier = Naming.Identifier(parameter.Name);
                _steps.Add(new ExternalTensorStep(identifier, identifier, parameter.Name, "Parameter"));
                return new TensorValue(TensorExpr.Var(identifier, parameter.Name));
            case ValueKind.Number:
                string code = Naming.Identifier(parameter.Name);
                return new NumberValue(parameter.IsDouble ? code : $"(double){code}", parameter.Name, null);
            default:
                Report(DiagnosticDescriptors.NonNumericValue, span, parameter.Name, parameter.DisplayType);
                return ErrorValue.Instance;
        }
    }

    private Value? UseMember(MemberInfo member, FormulaSpan span)
    {
        if (member.Kind == ValueKind.Other)
        {
            Report(DiagnosticDescriptors.NonNumericValue, span, member.Name, member.Type);
            return ErrorValue.Instance;
        }
        if (!CheckStaticAccess(member.IsStatic, member.Name, span))
        {
            return ErrorValue.Instance;
        }
        string access = (member.IsStatic ? "" : "this.") + Naming.Identifier(member.Name);
        if (member.Kind == ValueKind.Number)
        {
            return new NumberValue(member.IsDouble ? access : $"(double){access}", member.Name, null);
        }
        // A Tensor member is read once per call, like a term.
        string variable = _locals.Allocate(Naming.Identifier(Naming.Camel(member.Name)));
        _steps.Add(new ExternalTensorStep(variable, access, member.Name, "Member"));
        return new TensorValue(TensorExpr.Var(variable, member.Name));
    }

    private bool CheckStaticAccess(bool memberIsStatic, string name, FormulaSpan span)
    {
        if (_declaration.IsStatic && !memberIsStatic)
        {
            Report(DiagnosticDescriptors.StaticLossUsesInstanceMember, span, _declaration.MethodName, name);
            return false;
        }
        return true;
    }

    /// <summary>The candidate nearest to <paramref name="name"/> by edit distance, if near enough to be a typo.</summary>
    internal static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates.Distinct().OrderBy(c => c, StringComparer.Ordinal))
        {
            int distance = EditDistance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        // One edit for short names, a third of the name for longer ones: near enough to be a typo.
        return best is not null && bestDistance <= Math.Max(1, name.Length / 3) ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
