using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Binding;

// The stateful functions: Uncertainty, Dwa and CoV weigh terms; Linear and Cosine schedule numbers.
// Their state (statistics, learnable parameters, the step counter) lives in a LossState the
// generated class holds, one per [Loss] method.
internal sealed partial class FormulaBinder
{
    private readonly List<string> _stateSites = new();
    private readonly List<StateParameterSpec> _stateParameters = new();
    private bool _usesState;

    private string StateProperty => _declaration.MethodName + "State";

    private string StateAccess => "this." + StateProperty;

    private StateSpec? State()
    {
        if (!_usesState)
        {
            return null;
        }
        // The formula without comments and white space: reformatting it keeps checkpoints valid.
        string formula = string.Concat(string.Join("\n", _formulaText.Split('\n').Select(line => line.IndexOf("//", StringComparison.Ordinal) is int comment and >= 0 ? line.Substring(0, comment) : line))
            .Where(c => !char.IsWhiteSpace(c)));
        string fingerprint = $"formula: {formula} | state: {string.Join(", ", _stateSites)}";
        return new StateSpec(StateProperty, "__lossDsl" + StateProperty, fingerprint, _stateParameters.ToEquatableArray());
    }

    /// <summary>Records that the formula keeps state; false (and LD0112) when the [Loss] method is static.</summary>
    private bool UseState(string what, FormulaSpan span)
    {
        if (_declaration.IsStatic)
        {
            Report(DiagnosticDescriptors.StateInStaticLoss, span, _declaration.MethodName, what);
            return false;
        }
        _usesState = true;
        return true;
    }

    private string Site(string kind) => $"{kind.ToLowerInvariant()}{_stateSites.Count(s => s.StartsWith(kind.ToLowerInvariant(), StringComparison.Ordinal))}";

    private Value LowerStrategy(CallSyntax call)
    {
        string kind = call.Name;
        var positional = call.Arguments.Where(a => a.Name is null).ToList();
        string[] allowed = kind == "Dwa" ? new[] { "temperature", "window" } : Array.Empty<string>();
        var options = new Dictionary<string, ArgumentSyntax>();
        foreach (ArgumentSyntax option in call.Arguments.Where(a => a.Name is not null))
        {
            if (!allowed.Contains(option.Name))
            {
                string? near = Closest(option.Name!, allowed);
                Report(DiagnosticDescriptors.InvalidStrategy, option.NameSpan, allowed.Length == 0
                    ? $"{kind} takes no options, but '{option.Name}' was given"
                    : $"{kind} has no option '{option.Name}'{(near is null ? "." : $"; did you mean '{near}'?")} Its options are temperature: and window:.");
                return ErrorValue.Instance;
            }
            if (options.ContainsKey(option.Name!))
            {
                Report(DiagnosticDescriptors.InvalidStrategy, option.NameSpan, $"{kind}'s option '{option.Name}' is given twice");
                return ErrorValue.Instance;
            }
            options[option.Name!] = option;
        }
        if (positional.Count < 2)
        {
            Report(DiagnosticDescriptors.InvalidStrategy, call.Span,
                $"{kind} weighs two or more terms against each other, but {positional.Count} {(positional.Count == 1 ? "was" : "were")} given");
            return ErrorValue.Instance;
        }

        double temperature = 2.0, window = 1; // Liu et al.'s temperature; a window of one update
        bool valid = true;
        if (options.TryGetValue("temperature", out ArgumentSyntax? t))
        {
            valid &= TryLiteral(t, kind, "temperature", v => v > 0, "greater than 0", out temperature);
        }
        if (options.TryGetValue("window", out ArgumentSyntax? w))
        {
            valid &= TryLiteral(w, kind, "window", v => v >= 1 && v <= int.MaxValue && Math.Floor(v) == v, "a whole number of 1 or more", out window);
        }
        if (!valid)
        {
            return ErrorValue.Instance;
        }
        if (!UseState(kind, call.NameSpan))
        {
            return ErrorValue.Instance;
        }

        var arguments = new List<TensorExpr>();
        foreach (ArgumentSyntax argument in positional)
        {
            Value value = Lower(argument.Value);
            if (value is NumberValue)
            {
                Report(DiagnosticDescriptors.InvalidStrategy, argument.Value.Span, $"{kind} weighs tensors, but this is a plain number");
                return ErrorValue.Instance;
            }
            if (value is not TensorValue tensor)
            {
                return ErrorValue.Instance;
            }
            arguments.Add(Materialize(tensor.Expr, "weighted"));
        }

        string site = Site(kind);
        string total = _locals.Allocate(kind.ToLowerInvariant());
        string weights = _locals.Allocate(kind.ToLowerInvariant() + "Weights");
        var weightVariables = new List<string>();
        foreach (TensorExpr argument in arguments)
        {
            // HardDwaWeight, SoftCovWeight, …: the argument and the strategy, so two strategies over one term stay apart.
            string name = Naming.Pascal(argument.Display!), strategy = kind == "CoV" ? "Cov" : kind;
            string property = ClaimProperty(IsPlainName(name) ? $"{name}{strategy}Weight" : $"{strategy}Weight");
            string variable = _locals.Allocate(Naming.Camel(property));
            weightVariables.Add(variable);
            _scaleMembers.Add(new ResultMemberSpec(property, variable, MetricKey(property),
                $"The weight of <c>{argument.Display}</c> in <c>{kind}</c>. Carries no gradient."));
        }
        string optionsText = kind == "Dwa" ? $", temperature: {FormatNumber(temperature)}, window: {(int)window}" : "";
        _steps.Add(new StrategyStep(kind, total, weights, weightVariables.ToEquatableArray(), site,
            arguments.Select(a => a.Code!).ToEquatableArray(), optionsText));
        _stateSites.Add(kind == "Dwa" ? $"{site}[{arguments.Count}](temperature {FormatNumber(temperature)}, window {(int)window})" : $"{site}[{arguments.Count}]");
        if (kind == "Uncertainty")
        {
            _stateParameters.Add(new StateParameterSpec(site, arguments.Count));
        }

        string list = string.Join(", ", arguments.Select(a => a.Display));
        _explanation.Add(kind switch
        {
            "Uncertainty" => $"{kind}({list}) = sum of (L * exp(-s) + s) / 2, one learnable log-variance s per term   [state: {site}]",
            "Dwa" => $"{kind}({list}) = sum of w * L, w = K * softmax(r / {FormatNumber(temperature)}), r = mean L of the last window of {(int)window} / of the window before; w = 1 until two windows   [state: {site}, no gradient through w]",
            _ => $"{kind}({list}) = sum of a * L, a = (std / mean of l) / sum of the same, l = L / running mean of L; uniform for the first two updates   [state: {site}, no gradient through a]",
        });
        return new TensorValue(TensorExpr.Var(total, $"{kind}({list})"));
    }

    private Value LowerSchedule(CallSyntax call)
    {
        string kind = call.Name;
        if (call.Arguments.FirstOrDefault(a => a.Name is not null) is ArgumentSyntax named)
        {
            Report(DiagnosticDescriptors.InvalidSchedule, named.NameSpan, $"{kind} takes no options, but '{named.Name}' was given; write {kind}(start, end, steps)");
            return ErrorValue.Instance;
        }
        if (call.Arguments.Count != 3)
        {
            Report(DiagnosticDescriptors.InvalidSchedule, call.Span, $"{kind} takes a start, an end and a number of steps, but {call.Arguments.Count} {(call.Arguments.Count == 1 ? "value was" : "values were")} given; write {kind}(start, end, steps)");
            return ErrorValue.Instance;
        }
        double steps = call.Arguments[2].Value is NumberSyntax literal ? literal.Value : double.NaN;
        if (!(steps > 0))
        {
            Report(DiagnosticDescriptors.InvalidSchedule, call.Arguments[2].Value.Span, $"{kind}'s number of steps must be a number written in the formula, greater than 0");
            return ErrorValue.Instance;
        }
        var ends = new List<NumberValue>();
        foreach (ArgumentSyntax argument in call.Arguments.Take(2))
        {
            Value value = Lower(argument.Value);
            if (value is TensorValue)
            {
                Report(DiagnosticDescriptors.InvalidSchedule, argument.Value.Span, $"{kind} schedules a number, but this is a tensor");
                return ErrorValue.Instance;
            }
            if (value is not NumberValue number)
            {
                return ErrorValue.Instance;
            }
            ends.Add(number);
        }
        if (!UseState(kind, call.NameSpan))
        {
            return ErrorValue.Instance;
        }
        if (!_stateSites.Contains("step"))
        {
            _stateSites.Add("step");
        }
        string stepsText = FormatNumber(steps);
        return new NumberValue(
            $"global::LossDsl.Schedules.{kind}({ends[0].Code}, {ends[1].Code}, {stepsText}, {StateAccess}.Step)",
            $"{kind}({ends[0].Display}, {ends[1].Display}, {steps.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})",
            null);
    }

    /// <summary>A strategy's option: a number written in the formula that satisfies <paramref name="valid"/>.</summary>
    private bool TryLiteral(ArgumentSyntax option, string kind, string name, Func<double, bool> valid, string rule, out double value)
    {
        value = option.Value switch
        {
            NumberSyntax number => number.Value,
            NegateSyntax { Operand: NumberSyntax number } => -number.Value,
            _ => double.NaN,
        };
        if (double.IsNaN(value))
        {
            Report(DiagnosticDescriptors.InvalidStrategy, option.Value.Span, $"{kind}'s option '{name}' must be a number written in the formula");
            return false;
        }
        if (!valid(value))
        {
            Report(DiagnosticDescriptors.InvalidStrategy, option.Value.Span, $"{kind}'s option '{name}' must be {rule}, but it is {FormatNumber(value)}");
            return false;
        }
        return true;
    }
}
