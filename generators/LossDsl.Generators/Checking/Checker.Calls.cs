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
            return BoundError.Instance;
        }
        if (!CheckOptionNames(function, call, out var options) || !CheckNumberOptions(function, options, out var numbers))
        {
            return BoundError.Instance;
        }

        // Arguments in the order they are written, then tensor options: terms are called in first-use order.
        var arguments = new List<BoundExpr>();
        bool valid = true;
        foreach (ArgumentSyntax argument in positional)
        {
            BoundExpr value = Bind(argument.Value);
            valid &= function.Elementwise && value.Kind == ValueKind.List || CheckKind(function, function.ArgumentKind, value, argument.Value.Span);
            arguments.Add(value);
        }
        var bound = new Dictionary<string, BoundOption>(StringComparer.Ordinal);
        foreach (OptionSpec spec in function.Options)
        {
            if (!options.TryGetValue(spec.Name, out ArgumentSyntax? option))
            {
                continue;
            }
            if (spec.Kind == ValueKind.Tensor)
            {
                BoundExpr value = Bind(option.Value);
                valid &= CheckKind(function, ValueKind.Tensor, value, option.Value.Span, $"{function.Name}'s {spec.Name}: takes one tensor");
                bound[spec.Name] = new BoundOption(spec, option, value, null);
            }
            else
            {
                bound[spec.Name] = new BoundOption(spec, option, null, numbers[spec.Name]);
            }
        }
        if (!valid)
        {
            return BoundError.Instance;
        }

        var checkedCall = new BoundCall(function, arguments, bound, call);
        int errors = _errors.Count;
        if (checkedCall.Kind == ValueKind.List)
        {
            function.CheckList(this, checkedCall);
        }
        function.Check(this, checkedCall);
        if (_errors.Count > errors || (function.KeepsState(checkedCall) && !UseState(function.StateDescription, StateSpan(checkedCall))))
        {
            return BoundError.Instance;
        }
        return function.Number is { } number ? new BoundNumber(number(checkedCall)) : checkedCall;
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
        if (value.Kind == ValueKind.List)
        {
            Report(DiagnosticDescriptors.ListNotReduced, span, TextOf(span), listUse ?? $"{function.Name} {function.ArgumentRole}{(expected == ValueKind.Number ? ", which must be numbers" : ", one tensor each")}");
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
        foreach (OptionSpec spec in function.Options.Where(o => o.Kind == ValueKind.Number))
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
