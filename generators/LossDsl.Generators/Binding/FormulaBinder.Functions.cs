using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Binding;

// The functions of the language: Balance and Detach.
internal sealed partial class FormulaBinder
{
    private static readonly string[] s_functions = { "Balance", "Detach", "Uncertainty", "Dwa", "CoV", "Linear", "Cosine" };
    private static readonly string[] s_balanceOptions = { "to", "eps", "min", "max", "ema" };
    private static readonly Dictionary<string, string> s_optionAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["target"] = "to", ["epsilon"] = "eps", ["minimum"] = "min", ["maximum"] = "max", ["beta"] = "ema", ["momentum"] = "ema",
    };

    private Value LowerCall(CallSyntax call)
    {
        switch (call.Name)
        {
            case "Balance":
                return LowerBalance(call);
            case "Detach":
                return LowerDetach(call);
            case "Uncertainty" or "Dwa" or "CoV":
                return LowerStrategy(call);
            case "Linear" or "Cosine":
                return LowerSchedule(call);
            default:
                string hint = _declaration.Terms.ContainsKey(call.Name)
                    ? $"; '{call.Name}' is a term: use it by name, without arguments"
                    : Closest(call.Name, s_functions) is string near ? $"; did you mean '{near}'?" : "";
                Report(DiagnosticDescriptors.InvalidCall, call.NameSpan, $"'{call.Name}' is not a function; the functions are Balance, Detach, Uncertainty, Dwa, CoV, Linear and Cosine{hint}");
                return ErrorValue.Instance;
        }
    }

    private Value LowerDetach(CallSyntax call)
    {
        var positional = call.Arguments.Where(a => a.Name is null).ToList();
        ArgumentSyntax? named = call.Arguments.FirstOrDefault(a => a.Name is not null);
        if (named is not null)
        {
            Report(DiagnosticDescriptors.InvalidCall, named.NameSpan, $"Detach has no option '{named.Name}'; write Detach(x)");
            return ErrorValue.Instance;
        }
        if (positional.Count != 1)
        {
            Report(DiagnosticDescriptors.InvalidCall, call.Span, $"Detach takes one value, but {positional.Count} were given; write Detach(x)");
            return ErrorValue.Instance;
        }
        Value value = Lower(positional[0].Value);
        if (value is NumberValue)
        {
            Report(DiagnosticDescriptors.InvalidCall, positional[0].Value.Span, "Detach stops the gradient of a tensor, but this is a plain number");
            return ErrorValue.Instance;
        }
        if (value is not TensorValue tensor)
        {
            return ErrorValue.Instance;
        }
        TensorExpr source = Materialize(tensor.Expr, "detachInput");
        if (!_detached.TryGetValue(source.Code!, out string? detached))
        {
            detached = _locals.Allocate(source.Code!.TrimStart('@') + "Detached");
            _steps.Add(new DetachStep(detached, source.Code!));
            _detached[source.Code!] = detached;
            _explanation.Add($"sg({source.Display}) = {source.Display}.detach()");
        }
        return new TensorValue(TensorExpr.Var(detached, $"sg({source.Display})"));
    }

    private Value LowerBalance(CallSyntax call)
    {
        var positional = call.Arguments.Where(a => a.Name is null).ToList();
        if (positional.Count != 1)
        {
            Report(DiagnosticDescriptors.InvalidBalance, call.Span, $"Balance takes one value to balance, but {positional.Count} were given; write Balance(x, to: y)");
            return ErrorValue.Instance;
        }

        var options = new Dictionary<string, ArgumentSyntax>();
        foreach (ArgumentSyntax argument in call.Arguments.Where(a => a.Name is not null))
        {
            if (!s_balanceOptions.Contains(argument.Name))
            {
                string? near = s_optionAliases.TryGetValue(argument.Name!, out string? alias) ? alias : Closest(argument.Name!, s_balanceOptions);
                Report(DiagnosticDescriptors.InvalidBalance, argument.NameSpan,
                    $"Balance has no option '{argument.Name}'{(near is null ? "." : $"; did you mean '{near}'?")} Its options are to:, eps:, min:, max: and ema:.");
                return ErrorValue.Instance;
            }
            if (options.ContainsKey(argument.Name!))
            {
                Report(DiagnosticDescriptors.InvalidBalance, argument.NameSpan, $"Balance's option '{argument.Name}' is given twice");
                return ErrorValue.Instance;
            }
            options[argument.Name!] = argument;
        }
        if (!options.TryGetValue("to", out ArgumentSyntax? to))
        {
            Report(DiagnosticDescriptors.InvalidBalance, call.Span, "Balance needs a target to match: write Balance(x, to: y)");
            return ErrorValue.Instance;
        }

        // '&' rather than '&&', so that every bad option is reported.
        if (!(TryConstantOption(options, "eps", out double? epsilon) & TryConstantOption(options, "min", out double? min)
            & TryConstantOption(options, "max", out double? max) & TryConstantOption(options, "ema", out double? ema)))
        {
            return ErrorValue.Instance;
        }
        if (ema is not null && !UseState("Balance(…, ema:)", options["ema"].NameSpan))
        {
            return ErrorValue.Instance;
        }
        if (min is double low && max is double high && low > high)
        {
            ArgumentSyntax minOption = options["min"], maxOption = options["max"];
            Report(DiagnosticDescriptors.InvalidBalance,
                FormulaSpan.FromBounds(Math.Min(minOption.NameSpan.Start, maxOption.NameSpan.Start), Math.Max(minOption.Value.Span.End, maxOption.Value.Span.End)),
                $"Balance's min: ({FormatNumber(low)}) is greater than its max: ({FormatNumber(high)})");
            return ErrorValue.Instance;
        }

        Value source = Lower(positional[0].Value);
        Value target = Lower(to.Value);
        if (source is NumberValue || target is NumberValue)
        {
            ExpressionSyntax culprit = source is NumberValue ? positional[0].Value : to.Value;
            Report(DiagnosticDescriptors.InvalidBalance, culprit.Span, "Balance matches the magnitude of one tensor to another, but this is a plain number");
            return ErrorValue.Instance;
        }
        if (source is not TensorValue x || target is not TensorValue y)
        {
            return ErrorValue.Instance;
        }

        TensorExpr xVar = Materialize(x.Expr, "balanceInput");
        TensorExpr yVar = Materialize(y.Expr, "balanceTarget");
        if (xVar.Code == yVar.Code)
        {
            Report(DiagnosticDescriptors.InvalidBalance, call.Span, $"'{xVar.Display}' is balanced to itself, so its scale would always be 1");
            return ErrorValue.Instance;
        }

        string eps = FormatNumber(epsilon ?? DefaultEpsilon);
        string? minText = min is double mn ? FormatNumber(mn) : null;
        string? maxText = max is double mx ? FormatNumber(mx) : null;
        string? emaText = ema is double beta ? FormatNumber(beta) : null;
        string key = $"{xVar.Code}|{yVar.Code}|{eps}|{minText}|{maxText}|{emaText}";
        if (!_scales.TryGetValue(key, out TensorExpr? scale))
        {
            string xName = Naming.Pascal(xVar.Display!), yName = Naming.Pascal(yVar.Display!);
            string property = ClaimProperty(IsPlainName(xName)
                ? (_properties.Contains(xName + "Scale") && IsPlainName(yName) ? $"{xName}To{yName}Scale" : $"{xName}Scale")
                : "BalanceScale");
            string variable = _locals.Allocate(Naming.Camel(property));
            string? site = null;
            if (emaText is null)
            {
                var newMagnitudes = new List<Magnitude>();
                string xMagnitude = Magnitude(xVar, newMagnitudes);
                string yMagnitude = Magnitude(yVar, newMagnitudes);
                _steps.Add(new ScaleStep(variable, newMagnitudes.ToEquatableArray(), xMagnitude, yMagnitude, eps, minText, maxText));
            }
            else
            {
                site = Site("balance");
                _steps.Add(new EmaScaleStep(variable, xVar.Code!, yVar.Code!, site, emaText, eps, minText, maxText));
                _stateSites.Add($"{site}(ema {emaText})");
            }
            _scaleMembers.Add(new ResultMemberSpec(property, variable, MetricKey(property), emaText is null
                ? $"The scale of <c>Balance({xVar.Display}, to: {yVar.Display})</c>: |sg({yVar.Display})| / |sg({xVar.Display})|, or 1 where either is at most {eps}. Carries no gradient."
                : $"The scale of <c>Balance({xVar.Display}, to: {yVar.Display}, ema: {emaText})</c>: the ratio of bias-corrected moving averages of |sg({yVar.Display})| and |sg({xVar.Display})|, or 1 where either is at most {eps}. Carries no gradient."));
            string clamp = (minText, maxText) switch
            {
                (null, null) => "",
                (string lo, null) => $", at least {lo}",
                (null, string hi) => $", at most {hi}",
                (string lo, string hi) => $", clamped to [{lo}, {hi}]",
            };
            _explanation.Add(site is null
                ? $"{property} = |sg({yVar.Display})| / |sg({xVar.Display})|{clamp}, or 1 where either magnitude <= {eps}   [no gradient]"
                : $"{property} = m(|sg({yVar.Display})|) / m(|sg({xVar.Display})|){clamp}, m a bias-corrected moving average (beta {emaText}), or 1 where either is <= {eps}   [state: {site}, no gradient]");
            scale = TensorExpr.Var(variable, property);
            _scales[key] = scale;
        }
        return new TensorValue(new TensorExpr(TensorOp.Product, xVar, Code: scale.Code, Display: scale.Display));
    }

    /// <summary>A Balance option's value: a number written in the formula, possibly negated; false when it is invalid.</summary>
    private bool TryConstantOption(Dictionary<string, ArgumentSyntax> options, string name, out double? value)
    {
        value = null;
        if (!options.TryGetValue(name, out ArgumentSyntax? option))
        {
            return true;
        }
        value = option.Value switch
        {
            NumberSyntax number => number.Value,
            NegateSyntax { Operand: NumberSyntax number } => -number.Value,
            _ => null,
        };
        if (value is null)
        {
            Report(DiagnosticDescriptors.InvalidBalance, option.Value.Span, $"Balance's option '{name}' must be a number written in the formula");
            return false;
        }
        bool valid = name switch { "max" => value > 0, "ema" => value > 0 && value < 1, _ => value >= 0 };
        if (!valid)
        {
            string rule = name switch { "max" => "greater than 0", "ema" => "between 0 and 1, both excluded", _ => "0 or more" };
            Report(DiagnosticDescriptors.InvalidBalance, option.Value.Span,
                $"Balance's option '{name}' must be {rule}, but it is {FormatNumber(value.Value)}");
            value = null;
            return false;
        }
        return true;
    }

    private static bool IsPlainName(string display)
        => display.Length > 0 && (char.IsLetter(display[0]) || display[0] == '_') && display.All(c => char.IsLetterOrDigit(c) || c == '_');

    /// <summary>The math of a lowered expression in the formula's names, for the explanation text.</summary>
    private static string Describe(TensorExpr e) => e.Op switch
    {
        TensorOp.Variable => e.Display!,
        TensorOp.Alias => Describe(e.Left!),
        TensorOp.Add => $"{Describe(e.Left!)} + {Describe(e.Right!)}",
        TensorOp.Subtract => $"{Describe(e.Left!)} - {Group(e.Right!)}",
        TensorOp.Multiply => $"{Group(e.Left!)} * {Group(e.Right!)}",
        TensorOp.Divide => $"{Group(e.Left!)} / {Group(e.Right!)}",
        TensorOp.Negate => $"-{Group(e.Left!)}",
        TensorOp.AddNumber => $"{Describe(e.Left!)} + {e.NumberDisplay}",
        TensorOp.NumberMinus => $"{e.NumberDisplay} - {Group(e.Left!)}",
        TensorOp.MulNumber => $"{e.NumberDisplay} * {Group(e.Left!)}",
        TensorOp.DivNumber => $"{Group(e.Left!)} / {e.NumberDisplay}",
        TensorOp.NumberDiv => $"{e.NumberDisplay} / {Group(e.Left!)}",
        TensorOp.AddScaled => $"{Describe(e.Left!)} + {e.NumberDisplay} * {Group(e.Right!)}",
        TensorOp.AddProduct => e.NumberDisplay == "1"
            ? $"{Describe(e.Left!)} + {Group(e.Right!)} * {e.Display}"
            : $"{Describe(e.Left!)} + {e.NumberDisplay} * {Group(e.Right!)} * {e.Display}",
        TensorOp.Product => $"{Group(e.Left!)} * {e.Display}",
        _ => "?",
    };

    private static string Group(TensorExpr e)
        => e.Op is TensorOp.Variable or TensorOp.Alias or TensorOp.Multiply or TensorOp.Product or TensorOp.MulNumber
            ? Describe(e)
            : $"({Describe(e)})";
}
