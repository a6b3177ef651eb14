using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Functions;

/// <summary>
/// The functions of the formula language, one entry each: arity, options (with defaults, rules
/// and aliases), state, lowering and explanation. Adding a function is adding an entry here (and
/// a lowering or runtime method when no existing one fits); checking, messages, the emitter and
/// the explanation writer read everything else from the entry.
/// </summary>
internal static class FunctionTable
{
    private const double DefaultEpsilon = 1e-8;

    public static IReadOnlyList<FunctionEntry> All { get; } = new[]
    {
        new FunctionEntry
        {
            Name = "Balance",
            Usage = "Balance(x, to: y)",
            ArgumentsText = "one value to balance",
            ArgumentRole = "matches the magnitude of one tensor to another",
            Descriptor = DiagnosticDescriptors.InvalidBalance,
            Options = new[]
            {
                new OptionSpec("to", ValueKind.Tensor, required: true, aliases: new[] { "target" }),
                new OptionSpec("eps", ValueKind.Number, NumberRule.NonNegative, DefaultEpsilon, aliases: new[] { "epsilon" }),
                new OptionSpec("min", ValueKind.Number, NumberRule.NonNegative, aliases: new[] { "minimum" }),
                new OptionSpec("max", ValueKind.Number, NumberRule.Positive, aliases: new[] { "maximum" }),
                new OptionSpec("ema", ValueKind.Number, NumberRule.OpenUnit, aliases: new[] { "beta", "momentum" }),
            },
            KeepsState = static call => call.Options.ContainsKey("ema"),
            StateOption = "ema",
            StateClass = "EmaBalanceState",
            KeepsStatistics = true,
            StateDescription = "Balance(…, ema:)",
            Check = CheckBalance,
            Lower = static (lowerer, call) => lowerer.Balance(call),
            StopsGradients = true,
            Elementwise = true,
            CheckList = static (checker, call) =>
            {
                if (call.Options.TryGetValue("ema", out BoundOption? ema))
                {
                    checker.ReportCall(call.Function, ema.Syntax.NameSpan,
                        "its ema: is not supported for a list, whose length may change from call to call; balance the list without ema:, or balance its Sum or Mean with it");
                }
            },
        },
        new FunctionEntry
        {
            Name = "Detach",
            Usage = "Detach(x)",
            ArgumentsText = "one value",
            ArgumentRole = "stops the gradient of a tensor",
            Lower = static (lowerer, call) => lowerer.Detach(call),
            StopsGradients = true,
            Elementwise = true,
        },
        Reduction("Sum", TensorOp.Sum, "adds up the elements of a list of tensors"),
        Reduction("Mean", TensorOp.Mean, "averages the elements of a list of tensors"),
        Weighting("Uncertainty", "Uncertainty(a, b, …)", stopsGradients: false, stateClass: "UncertaintyState", keepsStatistics: false,
            explain: static step => $"sum of (L * exp(-s) + s) / 2, one learnable log-variance s per term   [state: {step.Site}]"),
        Weighting("Dwa", "Dwa(a, b, …, temperature: 2, window: 1)", stopsGradients: true, stateClass: "DwaState", keepsStatistics: true,
            explain: static step => $"sum of w * L, w = K * softmax(r / {Literals.Number(step.Options[0].Value)}), r = mean L of the last window of {(long)step.Options[1].Value} / of the window before; w = 1 until two windows   [state: {step.Site}, no gradient through w]",
            new OptionSpec("temperature", ValueKind.Number, NumberRule.Positive, 2.0), // Liu et al.'s temperature
            new OptionSpec("window", ValueKind.Number, NumberRule.WholeAtLeastOne, 1)),
        Weighting("CoV", "CoV(a, b, …)", stopsGradients: true, stateClass: "CovState", keepsStatistics: true,
            explain: static step => $"sum of a * L, a = (std / mean of l) / sum of the same, l = |L| / running mean of |L|; uniform until each term has two updates   [state: {step.Site}, no gradient through a]"),
        Schedule("Linear"),
        Schedule("Cosine"),
    };

    public static IEnumerable<string> Names => All.Select(f => f.Name);

    /// <summary>"Balance, Detach, … and Cosine", for messages.</summary>
    public static string NameList => JoinWithAnd(Names);

    public static FunctionEntry? Find(string name) => All.FirstOrDefault(f => f.Name == name);

    public static string JoinWithAnd(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " and " + list[list.Count - 1];
    }

    private static FunctionEntry Weighting(string name, string usage, bool stopsGradients, string stateClass, bool keepsStatistics, Func<WeightingStep, string> explain, params OptionSpec[] options) => new()
    {
        Name = name,
        Usage = usage,
        ArgumentsText = "two or more terms to weigh against each other",
        MinArguments = 2,
        MaxArguments = int.MaxValue,
        ArgumentRole = "weighs tensors",
        Descriptor = DiagnosticDescriptors.InvalidStrategy,
        Options = options,
        KeepsState = static _ => true,
        StateDescription = name,
        Lower = static (lowerer, call) => lowerer.Weighting(call),
        Runtime = "global::LossDsl.Strategies." + name,
        Explain = explain,
        StopsGradients = stopsGradients,
        // Dwa and CoV weigh with constants; Uncertainty's total also adds its log-variances.
        IsWeightedSum = stopsGradients,
        StateClass = stateClass,
        KeepsStatistics = keepsStatistics,
    };

    /// <summary>A reduction of a list (one tensor per element) to one tensor.</summary>
    private static FunctionEntry Reduction(string name, TensorOp op, string role) => new()
    {
        Name = name,
        Usage = $"{name}(list)",
        ArgumentsText = "one list of tensors (a [Term] that returns Tensor[] or IReadOnlyList<Tensor>, or a value computed from one)",
        ArgumentKind = ValueKind.List,
        ArgumentRole = role,
        Descriptor = DiagnosticDescriptors.InvalidListReduction,
        Lower = (lowerer, call) => lowerer.Reduce(call, op),
    };

    private static FunctionEntry Schedule(string name) => new()
    {
        Name = name,
        Usage = $"{name}(start, end, steps)",
        ArgumentsText = "a start, an end and a number of steps",
        MinArguments = 3,
        MaxArguments = 3,
        ArgumentKind = ValueKind.Number,
        ArgumentRole = "schedules a number",
        Descriptor = DiagnosticDescriptors.InvalidSchedule,
        KeepsState = static _ => true,
        StateDescription = name,
        Check = static (checker, call) =>
        {
            if (!(((BoundNumber)call.Arguments[2]).Value.Constant > 0))
            {
                checker.ReportCall(call.Function, call.Syntax.Arguments[2].Value.Span, "its number of steps must be a number written in the formula, greater than 0");
            }
        },
        Number = static call => new ScheduleValue(
            (ScheduleKind)Enum.Parse(typeof(ScheduleKind), call.Function.Name),
            ((BoundNumber)call.Arguments[0]).Value, ((BoundNumber)call.Arguments[1]).Value, ((BoundNumber)call.Arguments[2]).Value),
    };

    private static void CheckBalance(Checker checker, BoundCall call)
    {
        if (call.Number("min") is double low && call.Number("max") is double high && low > high)
        {
            BoundOption min = call.Options["min"], max = call.Options["max"];
            checker.ReportCall(call.Function,
                Formula.FormulaSpan.FromBounds(Math.Min(min.Syntax.NameSpan.Start, max.Syntax.NameSpan.Start), Math.Max(min.Syntax.Value.Span.End, max.Syntax.Value.Span.End)),
                $"its min: ({Literals.Number(low)}) is greater than its max: ({Literals.Number(high)})");
            return;
        }
        if (Checker.Identity(call.Arguments[0]).Equals(Checker.Identity(call.Tensor("to")!)))
        {
            string x = checker.TextOf(call.Syntax.Arguments[0].Value.Span), y = checker.TextOf(call.Options["to"].Syntax.Value.Span);
            checker.ReportCall(call.Function, call.Syntax.Span, x == y
                ? $"'{x}' is balanced to itself, so its scale would always be 1"
                : $"'{x}' and '{y}' are the same value (a binding that only renames another is the same value), so the scale would always be 1");
        }
    }
}
