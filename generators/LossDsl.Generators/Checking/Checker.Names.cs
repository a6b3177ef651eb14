using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Checking;

// Name resolution: bindings, [Term] methods, parameters and members of the loss type.
internal sealed partial class Checker
{
    private readonly HashSet<string> _inReportedCycle = new(StringComparer.Ordinal);

    private BoundExpr Resolve(string name, FormulaSpan span)
    {
        if (_bindings.TryGetValue(name, out BoundExpr? bound))
        {
            return bound;
        }
        if (_bindingLines.TryGetValue(name, out int line) && line >= _currentLine)
        {
            ReportForwardUse(name, line, span);
            return BoundError.Instance;
        }
        if (_externals.TryGetValue(name, out BoundExpr? external))
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
            return _externals[name] = BoundError.Instance;
        }

        BoundExpr? value =
            term is not null ? UseTerm(term, span) :
            parameter is not null ? UseParameter(parameter, span) :
            member is not null ? UseMember(member, span) :
            null;
        if (value is null)
        {
            ReportUnknownName(name, span);
            value = BoundError.Instance;
        }
        _externals[name] = value;
        return value;
    }

    /// <summary>A use of a binding of this line or a later one: a cycle, a self-reference, or a forward reference.</summary>
    private void ReportForwardUse(string name, int line, FormulaSpan span)
    {
        string current = _formula.Bindings[_currentLine].Name;
        if (_inReportedCycle.Contains(current))
        {
            return; // the cycle this binding is on was reported at its first binding
        }
        if (line == _currentLine)
        {
            Report(DiagnosticDescriptors.UsedBeforeDefined, span, name, ": a binding cannot use itself");
            return;
        }
        if (DependencyPath(name, current) is List<string> path)
        {
            _inReportedCycle.UnionWith(path);
            Report(DiagnosticDescriptors.BindingCycle, span, current, $"'{name}' ({current} → {string.Join(" → ", path)})");
            return;
        }
        Report(DiagnosticDescriptors.UsedBeforeDefined, span, name, "; move its definition above this line");
    }

    /// <summary>The chain of bindings from <paramref name="from"/> that uses <paramref name="to"/>, if any.</summary>
    private List<string>? DependencyPath(string from, string to)
    {
        var previous = new Dictionary<string, string?> { [from] = null };
        var queue = new Queue<string>();
        queue.Enqueue(from);
        while (queue.Count > 0)
        {
            string name = queue.Dequeue();
            BindingSyntax? binding = _formula.Bindings.FirstOrDefault(b => b.Name == name);
            if (binding is null)
            {
                continue;
            }
            foreach (string used in FormulaSyntaxFacts.NamesUsed(binding.Value))
            {
                if (used == to)
                {
                    var path = new List<string> { to };
                    for (string? step = name; step is not null; step = previous[step])
                    {
                        path.Insert(0, step);
                    }
                    return path;
                }
                if (!previous.ContainsKey(used) && _bindingLines.ContainsKey(used))
                {
                    previous[used] = name;
                    queue.Enqueue(used);
                }
            }
        }
        return null;
    }

    // "Did you mean" compares a name with every name in scope: bounded per formula, so a formula
    // with thousands of unknown names costs time linear in its size, not quadratic.
    private const int SuggestionBudget = 32;
    private int _suggestionsMade;

    private void ReportUnknownName(string name, FormulaSpan span)
    {
        string hint;
        if (_declaration.OtherMethodNames.Contains(name))
        {
            hint = $"; to use the method '{name}' as a term, mark it with [Term]";
        }
        else if (_suggestionsMade++ >= SuggestionBudget)
        {
            hint = "";
        }
        else
        {
            var candidates = _bindings.Keys.Where(k => _bindings[k] is not BoundError)
                .Concat(_declaration.Terms.Keys)
                .Concat(_declaration.Parameters.Where(p => p.Kind != ValueKind.Other).Select(p => p.Name))
                .Concat(_declaration.Members.Values.Where(m => m.Kind != ValueKind.Other).Select(m => m.Name));
            string? closest = Spelling.Closest(name, candidates);
            hint = closest is null ? "" : $"; did you mean '{closest}'?";
        }
        Report(DiagnosticDescriptors.UnknownName, span, name, _declaration.TypeName, hint);
    }

    private BoundExpr UseTerm(TermInfo term, FormulaSpan span)
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
            return term.IsList ? BoundError.List : BoundError.Instance;
        }
        foreach (ParameterInfo needed in term.Parameters)
        {
            ParameterInfo? supplied = _declaration.Parameters.FirstOrDefault(p => p.Name == needed.Name);
            if (supplied is null && needed.IsOptional)
            {
                continue; // left out: the term's default value applies
            }
            if (supplied is null || supplied.Type != needed.Type)
            {
                string problem = $"needs the parameter '{needed.DisplayType} {needed.Name}', which the [Loss] method '{_declaration.MethodName}' does not have";
                if (supplied is not null)
                {
                    problem += $" (its '{needed.Name}' has type '{supplied.DisplayType}')";
                }
                else if (Spelling.Closest(needed.Name, _declaration.Parameters.Where(p => p.Type == needed.Type).Select(p => p.Name)) is string near)
                {
                    problem += $"; did you mean '{near}'? A term's parameters are matched to the [Loss] method's by name";
                }
                Report(DiagnosticDescriptors.InvalidTerm, span, term.Name, problem);
                return term.IsList ? BoundError.List : BoundError.Instance;
            }
        }
        if (!CheckStaticAccess(term.IsStatic, term.Name, span))
        {
            return BoundError.Instance;
        }
        ReportObsolete(term.Obsolete, $"the [Term] method '{term.Name}'", span);
        ReportCopy(term.IsReadOnly, $"the [Term] method '{term.Name}'", span);
        _usedTerms.Add(term.Name);
        foreach (ParameterInfo parameter in term.Parameters.Where(p => _declaration.Parameters.Any(d => d.Name == p.Name)))
        {
            _usedParameters.Add(parameter.Name);
        }
        return new BoundTerm(term);
    }

    private BoundExpr UseParameter(ParameterInfo parameter, FormulaSpan span)
    {
        _usedParameters.Add(parameter.Name);
        switch (parameter.Kind)
        {
            case ValueKind.Tensor:
                return new BoundTensorParameter(parameter.Name);
            case ValueKind.Number:
                return new BoundNumber(new NumberRead(NumberSource.Parameter, parameter.Name, parameter.IsDouble));
            default:
                Report(DiagnosticDescriptors.NonNumericValue, span, parameter.Name, parameter.DisplayType);
                return BoundError.Instance;
        }
    }

    private BoundExpr UseMember(MemberInfo member, FormulaSpan span)
    {
        if (member.Kind == ValueKind.Other)
        {
            Report(DiagnosticDescriptors.NonNumericValue, span, member.Name, member.Type);
            return BoundError.Instance;
        }
        if (!CheckMemberUse(member, span))
        {
            return BoundError.Instance;
        }
        return member.Kind == ValueKind.Number
            ? new BoundNumber(new NumberRead(member.IsStatic ? NumberSource.StaticMember : NumberSource.Member, member.Name, member.IsDouble, Via: member.Receiver))
            : new BoundTensorMember(member);
    }

    /// <summary>
    /// Whether generated code can read <paramref name="member"/> where the formula uses it (LD0205 when
    /// it cannot reach it, LD0005 for an instance member in a static [Loss] method); reports an
    /// obsolete member (LD0206/LD0207) and a struct copy (LD0208) of a use that goes ahead.
    /// </summary>
    private bool CheckMemberUse(MemberInfo member, FormulaSpan span)
    {
        if (member.Problem is not null)
        {
            Report(DiagnosticDescriptors.UnreachableMember, span, member.Name, member.Problem);
            return false;
        }
        if (!CheckStaticAccess(member.IsStatic, member.Name, span))
        {
            return false;
        }
        ReportObsolete(member.Obsolete, $"the member '{member.Name}'", span);
        ReportCopy(member.IsReadOnly, $"the property '{member.Name}'", span);
        return true;
    }

    /// <summary>
    /// The compiler's CS0612/CS0618/CS0619 for a use the formula writes: the generated code does not
    /// repeat them, and a use that is an error (LD0207) gets no implementation.
    /// </summary>
    private void ReportObsolete(ObsoleteInfo? obsolete, string what, FormulaSpan span)
    {
        if (obsolete?.DiagnosticId is string id)
        {
            _obsoleteIds.Add(id);
        }
        if (obsolete is null || _declaration.InObsoleteContext)
        {
            return;
        }
        Report(obsolete.IsError ? DiagnosticDescriptors.ObsoleteErrorUsed : DiagnosticDescriptors.ObsoleteUsed, span,
            what, obsolete.Message.Length == 0 ? "" : ": " + obsolete.Message);
    }

    /// <summary>The compiler's CS8656 for a use the formula writes, where the user can see it.</summary>
    public void ReportCopy(bool isReadOnly, string what, FormulaSpan span)
    {
        if (_declaration.IsReadOnly && !isReadOnly)
        {
            Report(DiagnosticDescriptors.ReadonlyLossUsesMutableMember, span, _declaration.MethodName, what);
        }
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
}
