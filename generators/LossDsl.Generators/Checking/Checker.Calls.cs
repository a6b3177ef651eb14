using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Functions;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Checking;

// Calls: every rule here is read from the function table, so a new function of an existing kind
// is checked, and its mistakes are explained, without a line of code in this file.
internal sealed partial class Checker
{
    private BoundExpr BindCall(CallSyntax call)
    {
        FunctionEntry? function = FunctionTable.Find(call.Name);
        if (function is null && call.Name == "Gradient")
        {
            Report(DiagnosticDescriptors.InvalidGradient, call.Span, "'" + TextOf(call.Span) + "'",
                "Gradient(P) is not a value: it names the parameters P whose gradients an option reads, as in Balance(x, to: y, by: Gradient(P)) or Anneal(x, to: y, by: Gradient(P))");
            return BoundError.Instance;
        }
        if (function is null)
        {
            string hint = _declaration.Terms.ContainsKey(call.Name)
                ? $"'{call.Name}' is a term: use it by name, without arguments"
                : $"it is not a function; the functions are {FunctionTable.NameList}" +
                  (Spelling.Closest(call.Name, FunctionTable.Names) is string near ? $"; did you mean '{near}'?" : "");
            Report(DiagnosticDescriptors.InvalidCall, call.NameSpan, call.Name, hint);
            return BoundError.Instance;
        }

        var positional = call.Arguments.Where(a => a.Name is null).ToList();
        if (positional.Count < function.MinArguments || positional.Count > function.MaxArguments)
        {
            string given = positional.Count == 1 ? "1 was" : $"{positional.Count} were";
            ReportCall(function, call.Span, $"it takes {function.ArgumentsText}, but {given} given; write {function.Usage}");
            return FailedCall(function, null);
        }
        if (!CheckOptionNames(function, call, out var options) || !CheckNumberOptions(function, options, out var numbers))
        {
            return FailedCall(function, null);
        }

        // Arguments in the order they are written, then tensor options: terms are called in first-use order.
        var arguments = new List<BoundExpr>();
        bool valid = true;
        BoundSwitch? onlyWhen = null;
        for (int i = 0; i < positional.Count; i++)
        {
            ArgumentSyntax argument = positional[i];
            if (function.TakesSwitch && i == 0)
            {
                onlyWhen = BindSwitch(function, argument.Value);
                valid &= onlyWhen is not null;
                arguments.Add(onlyWhen ?? (BoundExpr)BoundError.Instance);
                continue;
            }
            BoundSwitch? outer = _switch;
            _switch = onlyWhen ?? outer;
            BoundExpr value = Bind(argument.Value);
            _switch = outer;
            valid &= value.Kind == ValueKind.List && function.Elementwise
                || (i < function.TensorOrNumberArguments
                    ? value.Kind == ValueKind.List ? CheckKind(function, ValueKind.Tensor, value, argument.Value.Span, $"{function.Name} takes one tensor or number") : value is not BoundError
                    : CheckKind(function, function.ArgumentKind, value, argument.Value.Span));
            arguments.Add(value);
        }
        var bound = new Dictionary<string, BoundOption>(StringComparer.Ordinal);
        foreach (OptionSpec spec in function.Options)
        {
            if (!options.TryGetValue(spec.Name, out ArgumentSyntax? option))
            {
                continue;
            }
            if (spec.Kind == ValueKind.Parameters)
            {
                BoundParameters? parameters = BindParameters(function, spec, option.Value);
                valid &= parameters is not null;
                bound[spec.Name] = new BoundOption(spec, option, parameters ?? (BoundExpr)BoundError.Instance, null);
            }
            else if (spec.Kind == ValueKind.Tensor || spec.ReadAtCallTime)
            {
                BoundExpr value = Bind(option.Value);
                valid &= CheckKind(function, spec.Kind, value, option.Value.Span, spec.Kind == ValueKind.Tensor ? $"{function.Name}'s {spec.Name}: takes one tensor" : null);
                bound[spec.Name] = new BoundOption(spec, option, value, null);
            }
            else
            {
                bound[spec.Name] = new BoundOption(spec, option, null, numbers[spec.Name]);
            }
        }
        if (!valid)
        {
            return FailedCall(function, arguments);
        }

        var checkedCall = new BoundCall(function, arguments, bound, call);
        int errors = _errors.Count;
        if (checkedCall.Kind == ValueKind.List)
        {
            function.CheckList(this, checkedCall);
        }
        function.Check(this, checkedCall);
        if (function.KeepsState(checkedCall) || function.TakesGradients(checkedCall))
        {
            CheckNoSwitchedStatistics(checkedCall);
        }
        bool failed = _errors.Skip(errors).Any(e => e.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        if (failed || (function.KeepsState(checkedCall) && !UseState(function.StateDescription, StateSpan(checkedCall))))
        {
            return FailedCall(function, arguments);
        }
        return function.Number?.Invoke(checkedCall) is NumberExpr number ? new BoundNumber(number) : checkedCall;
    }

    /// <summary>The switch a term is bound under (If's second argument), null outside If.</summary>
    private BoundSwitch? _switch;

    /// <summary>Each use of a term by name, with the switch it was used under: every use must have the same.</summary>
    private readonly List<(string Term, FormulaSpan Span, BoundSwitch? Switch)> _termUses = new();

    /// <summary>If's switch: the name of a bool parameter, field or property; null (reported) otherwise.</summary>
    private BoundSwitch? BindSwitch(FunctionEntry function, ExpressionSyntax syntax)
    {
        string? reference = _declaration.Parameters.FirstOrDefault(p => p.Kind == ValueKind.Tensor && !p.MayBeNull)?.Name;
        if (syntax is not NameSyntax name)
        {
            ReportCall(function, syntax.Span, $"its first argument must be the name of a bool parameter, field or property, but this is '{TextOf(syntax.Span)}'");
            return null;
        }
        ParameterInfo? parameter = _declaration.Parameters.FirstOrDefault(p => p.Name == name.Name);
        _declaration.Members.TryGetValue(name.Name, out MemberInfo? member);
        ValueKind? kind = parameter?.Kind ?? member?.Kind;
        string? type = parameter?.DisplayType ?? member?.Type;
        if (kind != ValueKind.Other || type != "bool" || (parameter is null && member!.Problem is not null))
        {
            string what =
                kind == ValueKind.Number ? $"'{name.Name}' is a number" :
                kind == ValueKind.Tensor ? $"'{name.Name}' is a tensor" :
                kind == ValueKind.Other && type != "bool" ? $"'{name.Name}' has type '{type}'" :
                _bindings.ContainsKey(name.Name) || _declaration.Terms.ContainsKey(name.Name) ? $"'{name.Name}' is a value of the formula" :
                $"'{name.Name}' is not a parameter or member of '{_declaration.TypeName}'";
            ReportCall(function, name.Span, member?.Problem is string problem && type == "bool"
                ? $"its switch '{name.Name}' cannot be read: the member {problem}"
                : $"its first argument must be the name of a bool parameter, field or property, but {what}");
            return null;
        }
        if (reference is null)
        {
            ReportCall(function, name.Span, $"a switched-off term is a zero created on the device of the [Loss] method's first Tensor parameter that cannot be null, and '{_declaration.MethodName}' has none");
            return null;
        }
        if (parameter is not null)
        {
            _usedParameters.Add(parameter.Name);
            return new BoundSwitch(ExternalKind.Parameter, parameter.Name, null, reference);
        }
        if (!CheckStaticAccess(member!.IsStatic, member.Name, name.Span))
        {
            return null;
        }
        ReportObsolete(member.Obsolete, $"the member '{member.Name}'", name.Span);
        ReportCopy(member.IsReadOnly, $"the property '{member.Name}'", name.Span);
        return new BoundSwitch(member.IsStatic ? ExternalKind.StaticMember : ExternalKind.Member, member.Name, member.Receiver, reference);
    }

    /// <summary>
    /// A call that takes gradients of its operands must not take them of a switched term: when it
    /// is off, its zero has no gradient (and the run-time error would come only on such a call); nor
    /// of a detached value, which has none on any call.
    /// A stateful call must not observe a switched term directly: on the calls where the term is off
    /// its statistics would learn from the zero that stands for it (a moving average decaying toward
    /// 0, a loss ratio of 0), and be wrong when it is switched on again.
    /// </summary>
    private void CheckNoSwitchedStatistics(BoundCall call)
    {
        var observed = call.Arguments.Select((a, i) => (Value: a, Span: call.Syntax.Arguments.Where(s => s.Name is null).ElementAt(i).Value.Span))
            .Concat(call.Options.Values.Where(o => o.Value is { Kind: not ValueKind.Number }).Select(o => (Value: o.Value!, Span: o.Syntax.Value.Span)));
        foreach (var (value, span) in observed)
        {
            if (SwitchOf(value) is BoundSwitch onlyWhen && call.Function.TakesGradients(call))
            {
                ReportCall(call.Function, span,
                    $"'{TextOf(span)}' is switched by If({onlyWhen.Name}, …), and {call.Function.Name} takes its gradient: on the calls where it is off its zero has none; " +
                    $"switch the term where it is added to the loss, not inside {call.Function.Name}");
            }
            else if (IsDetached(value) && call.Function.TakesGradients(call))
            {
                ReportCall(call.Function, span,
                    $"'{TextOf(span)}' is detached, and {call.Function.Name} takes its gradient: it has none, on any call; " +
                    $"detach it where it is added to the loss, not inside {call.Function.Name}");
            }
            else if (SwitchOf(value) is BoundSwitch switched)
            {
                ReportCall(call.Function, span,
                    $"'{TextOf(span)}' is switched by If({switched.Name}, …), and {call.Function.StateDescription} keeps statistics of it: on the calls where it is off they would learn from its zero; " +
                    $"balance it without ema:, or switch the term where it is added to the loss, not inside {call.Function.Name}");
            }
        }
    }

    /// <summary>The switch of a value that is a switched term (through bindings that rename it, Sum, Mean and elementwise functions).</summary>
    private static BoundSwitch? SwitchOf(BoundExpr value) => value switch
    {
        BoundBindingRef reference => SwitchOf(reference.Value),
        BoundCall { Function.TakesSwitch: true } call => call.Arguments[0] as BoundSwitch,
        BoundCall { Function.ArgumentKind: ValueKind.List } call => SwitchOf(call.Arguments[0]), // Sum, Mean
        BoundCall { Function.Elementwise: true } call when call.Arguments[0].Kind == ValueKind.List => SwitchOf(call.Arguments[0]),
        _ => null,
    };

    /// <summary>Whether a value is Detach(…) as a whole (through bindings that rename it): it carries no gradient.</summary>
    private static bool IsDetached(BoundExpr value) => value switch
    {
        BoundBindingRef reference => IsDetached(reference.Value),
        BoundCall call => call.Function.Name == "Detach",
        _ => false,
    };

    /// <summary>A term used both under If and without it (or under two switches) would be computed under one of them only.</summary>
    private void CheckSwitchedTerms()
    {
        foreach (var uses in _termUses.GroupBy(u => u.Term))
        {
            var first = uses.First();
            if (uses.FirstOrDefault(u => !Equals(u.Switch?.Name, first.Switch?.Name)) is var other && other.Term is not null)
            {
                var (switched, plain) = first.Switch is not null ? (first, other) : (other, first);
                string where = plain.Switch is null ? "without a switch" : $"under If({plain.Switch.Name}, …)";
                Report(DiagnosticDescriptors.InvalidCall, other.Span, "If",
                    $"the term '{first.Term}' is switched by If({switched.Switch!.Name}, …) and also used {where}; bind it once, for example {first.Term}Part = If({switched.Switch.Name}, {first.Term}), and use that binding");
            }
        }
    }

    /// <summary>
    /// The parameters of a <see cref="ValueKind.Parameters"/> option: <c>Gradient(P)</c> for one with a
    /// wrapper (<c>by:</c>), the name alone otherwise (<c>shared:</c>); P a parameter or member that is a
    /// Tensor or Parameter, a Module, or an enumerable of tensors. Null (reported, LD0127) otherwise.
    /// </summary>
    private BoundParameters? BindParameters(FunctionEntry function, OptionSpec spec, ExpressionSyntax syntax)
    {
        string where = $"{function.Name}'s '{spec.Name}:'";
        string expected = spec.Wrapper is string call ? $"{call}(P)" : "the name P";
        const string what = "P a Tensor or Parameter, a Module, or an enumerable of tensors (a parameter of the [Loss] method, a field or a property)";
        void Problem(FormulaSpan span, string problem) => Report(DiagnosticDescriptors.InvalidGradient, span, where, problem);

        ExpressionSyntax inner = syntax;
        if (spec.Wrapper is string wrapper)
        {
            if (syntax is not CallSyntax { Name: var name } gradient || name != wrapper)
            {
                Problem(syntax.Span, $"it takes {expected}, {what}, whose gradients are compared, but this is '{TextOf(syntax.Span)}'");
                return null;
            }
            if (gradient.Arguments.Count != 1 || gradient.Arguments[0].Name is not null)
            {
                Problem(gradient.Span, $"{wrapper}(P) takes one name, {what}; to take the gradients on several, name a property that returns them all (an IEnumerable<Parameter>)");
                return null;
            }
            inner = gradient.Arguments[0].Value;
        }
        if (inner is not NameSyntax reference)
        {
            Problem(inner.Span, $"it takes {expected}, {what}, but '{TextOf(inner.Span)}' is not a name");
            return null;
        }
        string text = reference.Name;
        ParameterInfo? parameter = _declaration.Parameters.FirstOrDefault(p => p.Name == text);
        _declaration.Members.TryGetValue(text, out MemberInfo? member);
        if (parameter is not null && member is not null)
        {
            Report(DiagnosticDescriptors.AmbiguousName, reference.Span, text, $"the parameter '{text}' and the member '{text}'");
            return null;
        }
        ParameterShape? shape = parameter?.Shape ?? member?.Shape;
        if (shape is null)
        {
            string found =
                parameter is not null ? $"the parameter '{text}' has type '{parameter.DisplayType}'" :
                member is not null ? $"the member '{text}' is {(member.Kind == ValueKind.Number ? "a number" : $"of type '{member.Type}'")}" :
                _bindings.ContainsKey(text) || _bindingLines.ContainsKey(text) ? $"'{text}' is a binding of the formula, a value, not parameters" :
                _declaration.Terms.ContainsKey(text) ? $"'{text}' is a [Term] method, a value, not parameters" :
                $"'{text}' is not a parameter or member of '{_declaration.TypeName}'";
            Problem(reference.Span, $"it takes {expected}, {what}, but {found}");
            return null;
        }
        if (parameter is not null)
        {
            _usedParameters.Add(parameter.Name);
            return new BoundParameters(new ParameterSet(ExternalKind.Parameter, text, null, shape.Value), text);
        }
        if (member is null || !CheckMemberUse(member, reference.Span))
        {
            return null;
        }
        return new BoundParameters(new ParameterSet(member.IsStatic ? ExternalKind.StaticMember : ExternalKind.Member, text, member.Receiver, shape.Value), text);
    }

    /// <summary>
    /// A call that failed, with the kind it would have had when its function and arguments
    /// (null: not bound yet) tell it.
    /// </summary>
    private static BoundError FailedCall(FunctionEntry function, IReadOnlyList<BoundExpr>? arguments)
    {
        // A schedule is a number; a math function of numbers is a number; an elementwise function or If of a list is a list.
        if (function.Number is not null && (function.TensorOrNumberArguments == 0
            || (arguments is { Count: > 0 } && arguments.All(a => BoundError.IntendedKind(a) == ValueKind.Number))))
        {
            return BoundError.Number;
        }
        if (arguments is null)
        {
            return BoundError.Instance;
        }
        return arguments.Count >= function.MinArguments && BoundCall.KindOf(function, i => BoundError.IntendedKind(arguments[i])) == ValueKind.List
            ? BoundError.List
            : BoundError.Instance;
    }

    /// <summary>Where a message about state points: the option that makes the call stateful, else the function's name.</summary>
    private static FormulaSpan StateSpan(BoundCall call)
        => call.Function.StateOption is string name && call.Options.TryGetValue(name, out BoundOption? option) ? option.Syntax.NameSpan : call.Syntax.NameSpan;

    public void ReportCall(FunctionEntry function, FormulaSpan span, string problem)
        => Report(function.Descriptor, span, function.Name, problem);

    /// <summary>Whether <paramref name="value"/> has the kind the function expects; <paramref name="listUse"/> says, for a list, what takes the value.</summary>
    private bool CheckKind(FunctionEntry function, ValueKind expected, BoundExpr value, FormulaSpan span, string? listUse = null)
    {
        if (value is BoundError)
        {
            return false;
        }
        if (value.Kind == expected)
        {
            return true;
        }
        if (value.Kind == ValueKind.List && expected == ValueKind.Number)
        {
            // Reducing it would give a tensor, which is not a number either.
            ReportCall(function, span, $"it {function.ArgumentRole}, but this is a list of tensors");
            return false;
        }
        if (value.Kind == ValueKind.List)
        {
            Report(DiagnosticDescriptors.ListNotReduced, span, TextOf(span), listUse ?? $"{function.Name} {function.ArgumentRole}, one tensor each");
            return false;
        }
        ReportCall(function, span, expected switch
        {
            ValueKind.Tensor => $"it {function.ArgumentRole}, but this is a plain number",
            ValueKind.List => $"it {function.ArgumentRole}, but this is {(value.Kind == ValueKind.Number ? "a plain number" : "one tensor, which needs no reduction: use it as it is")}",
            _ => $"it {function.ArgumentRole}, but this is a tensor",
        });
        return false;
    }

    private bool CheckOptionNames(FunctionEntry function, CallSyntax call, out Dictionary<string, ArgumentSyntax> options)
    {
        options = new Dictionary<string, ArgumentSyntax>(StringComparer.Ordinal);
        foreach (ArgumentSyntax argument in call.Arguments.Where(a => a.Name is not null))
        {
            string name = argument.Name!;
            if (function.Option(name) is null)
            {
                if (function.Options.Count == 0)
                {
                    ReportCall(function, argument.NameSpan, $"it takes no options, but '{name}' was given; write {function.Usage}");
                    return false;
                }
                string? near = function.Options.FirstOrDefault(o => o.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase))?.Name
                    ?? Spelling.Closest(name, function.Options.Select(o => o.Name));
                string list = FunctionTable.JoinWithAnd(function.Options.Select(o => o.Name + ":"));
                ReportCall(function, argument.NameSpan,
                    $"it has no option '{name}'{(near is null ? "." : $"; did you mean '{near}'?")} Its options are {list}.");
                return false;
            }
            if (options.ContainsKey(name))
            {
                ReportCall(function, argument.NameSpan, $"its option '{name}' is given twice");
                return false;
            }
            options[name] = argument;
        }
        var given = options;
        if (function.Options.FirstOrDefault(o => o.Required && !given.ContainsKey(o.Name)) is OptionSpec missing)
        {
            ReportCall(function, call.Span, $"it needs the option '{missing.Name}:'; write {function.Usage}");
            return false;
        }
        return true;
    }

    /// <summary>Every number option must fold to a number within its rule; all bad ones are reported.</summary>
    private bool CheckNumberOptions(FunctionEntry function, Dictionary<string, ArgumentSyntax> options, out Dictionary<string, double> values)
    {
        values = new Dictionary<string, double>(StringComparer.Ordinal);
        bool valid = true;
        foreach (OptionSpec spec in function.Options.Where(o => o.Kind == ValueKind.Number && !o.ReadAtCallTime))
        {
            if (!options.TryGetValue(spec.Name, out ArgumentSyntax? option))
            {
                continue;
            }
            double? value = option.Value switch
            {
                NumberSyntax number => number.Value,
                NegateSyntax { Operand: NumberSyntax number } => -number.Value,
                _ => null,
            };
            if (value is not double v)
            {
                ReportCall(function, option.Value.Span, $"its option '{spec.Name}' must be a number written in the formula");
                valid = false;
            }
            else if (spec.Rule is NumberRule rule && !rule.Accepts(v))
            {
                ReportCall(function, option.Value.Span, $"its option '{spec.Name}' must be {rule.Text}, but it is {Literals.Number(v)}");
                valid = false;
            }
            else
            {
                values[spec.Name] = v;
            }
        }
        return valid;
    }
}
