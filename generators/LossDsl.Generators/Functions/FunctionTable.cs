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
                new OptionSpec("by", ValueKind.Parameters, wrapper: "Gradient", aliases: new[] { "gradient", "grad", "via", "on" }),
                new OptionSpec("stabilizer", ValueKind.Number, NumberRule.Positive, aliases: new[] { "stabiliser", "delta", "offset" }),
            },
            KeepsState = static call => call.Options.ContainsKey("ema"),
            TakesGradients = static call => call.Options.ContainsKey("by"),
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
                else if (call.Options.TryGetValue("by", out BoundOption? by))
                {
                    checker.ReportCall(call.Function, by.Syntax.NameSpan,
                        "its by: Gradient(…) is not supported for a list: each element would take its own backward pass on every call; balance its Sum or Mean by the gradient");
                }
            },
        },
        new FunctionEntry
        {
            Name = "Anneal",
            Usage = "Anneal(x, to: y, by: Gradient(P), alpha: 0.9)",
            ArgumentsText = "one value to weigh",
            ArgumentRole = "weighs a tensor by the ratio of its gradients to another's",
            Options = new[]
            {
                new OptionSpec("to", ValueKind.Tensor, required: true, aliases: new[] { "target" }),
                new OptionSpec("by", ValueKind.Parameters, required: true, wrapper: "Gradient", aliases: new[] { "gradient", "grad", "via", "on", "shared" }),
                new OptionSpec("alpha", ValueKind.Number, NumberRule.UnitExcludingZero, 0.9, aliases: new[] { "smoothing", "rate", "momentum", "beta" }),
                new OptionSpec("min", ValueKind.Number, NumberRule.NonNegative, aliases: new[] { "minimum" }),
                new OptionSpec("max", ValueKind.Number, NumberRule.Positive, aliases: new[] { "maximum" }),
            },
            KeepsState = static _ => true,
            StateClass = "AnnealState",
            KeepsStatistics = true,
            StateDescription = "Anneal",
            TakesGradients = static _ => true,
            Check = CheckBalance,
            Lower = static (lowerer, call) => lowerer.Anneal(call),
            StopsGradients = true,
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
        new FunctionEntry
        {
            Name = "If",
            Usage = "If(UseFeature, Feature)",
            ArgumentsText = "a bool switch and a [Term] method",
            MinArguments = 2,
            MaxArguments = 2,
            TakesSwitch = true,
            Elementwise = true, // a list term is switched as a whole: the value is a list
            ArgumentRole = "switches a term on or off",
            Check = CheckIf,
            Lower = static (lowerer, call) => lowerer.Switched(call),
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
        Weighting("GradNorm", "GradNorm(a, b, …, shared: P, alpha: 1.5)", stopsGradients: true, stateClass: "GradNormState", keepsStatistics: true, weightStem: "GradNorm",
            explain: static step => $"sum of w * L, w the task weights (initially 1, summing to {step.Arguments.Count}); while training, with g = ||grad_{step.Shared!.Name}(L)|| (autograd.grad on {step.Shared.Name}, retain_graph), G = w * g and r = (L / L(0)) / mean of the same, " +
                $"w takes one SGD step of lr {Literals.Number(step.Options.First(o => o.Name == "lr").Value)} on sum |G - mean(G) * r^{Literals.Number(step.Options.First(o => o.Name == "alpha").Value)}| and is renormalised   [state: {step.Site}, no gradient through w]",
            new OptionSpec("shared", ValueKind.Parameters, required: true, aliases: new[] { "by", "parameters", "layer", "on" }),
            new OptionSpec("alpha", ValueKind.Number, NumberRule.NonNegative, 1.5, aliases: new[] { "restoring", "asymmetry" }),
            new OptionSpec("lr", ValueKind.Number, NumberRule.Positive, 1e-3, aliases: new[] { "learningRate", "learning_rate", "rate", "step" })),
        Schedule("Linear"),
        Schedule("Cosine"),
        Schedule("Piecewise"),
        MathEntry(MathFunction.Sqrt, "Sqrt(x)", "one value", 1, 1),
        MathEntry(MathFunction.Log, "Log(x)", "one value", 1, 1),
        MathEntry(MathFunction.Exp, "Exp(x)", "one value", 1, 1),
        MathEntry(MathFunction.Abs, "Abs(x)", "one value", 1, 1),
        MathEntry(MathFunction.Min, "Min(x, y)", "two values", 2, 2),
        MathEntry(MathFunction.Max, "Max(x, y)", "two values", 2, 2),
        MathEntry(MathFunction.Clamp, "Clamp(x, lo, hi)", "a value, a lower and an upper bound", 3, 1),
        MathEntry(MathFunction.Pow, "Pow(x, p)", "a base and an exponent", 2, 2),
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

    private static FunctionEntry Weighting(string name, string usage, bool stopsGradients, string stateClass, bool keepsStatistics, Func<WeightingStep, string> explain, params OptionSpec[] options)
        => Weighting(name, usage, stopsGradients, stateClass, keepsStatistics, null, explain, options);

    private static FunctionEntry Weighting(string name, string usage, bool stopsGradients, string stateClass, bool keepsStatistics, string? weightStem, Func<WeightingStep, string> explain, params OptionSpec[] options) => new()
    {
        WeightStem = weightStem,
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
        TakesGradients = static call => call.Options.ContainsKey("shared"),
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

    /// <summary>
    /// A schedule: its values first, then its lengths, and the options every schedule shares,
    /// from: (the step it starts at) and warmup: (the steps of a linear ramp from 0 to its first
    /// value). Lengths and options are any number expressions; a literal one is checked here, any
    /// other by LossDsl.Schedules when the loss runs.
    /// </summary>
    private static FunctionEntry Schedule(string name) => new()
    {
        Name = name,
        Usage = name == "Piecewise" ? "Piecewise(value, milestone, value, …)" : $"{name}(start, end, steps)",
        ArgumentsText = name == "Piecewise" ? "a first value, then pairs of a milestone step and the value from it on" : "a start, an end and a number of steps",
        MinArguments = 3,
        MaxArguments = name == "Piecewise" ? int.MaxValue : 3,
        ArgumentKind = ValueKind.Number,
        ArgumentRole = "schedules a number",
        Descriptor = DiagnosticDescriptors.InvalidSchedule,
        Options = new[]
        {
            new OptionSpec("from", ValueKind.Number, readAtCallTime: true, aliases: new[] { "offset", "delay", "begin", "hold" }),
            new OptionSpec("warmup", ValueKind.Number, readAtCallTime: true, aliases: new[] { "warmup_steps", "warmupSteps", "warm" }),
        },
        KeepsState = static _ => true,
        StateDescription = name,
        Check = CheckSchedule,
        Number = static call =>
        {
            var numbers = call.Arguments.Select(a => ((BoundNumber)a).Value).ToList();
            bool piecewise = call.Function.Name == "Piecewise";
            var values = piecewise ? numbers.Where((_, i) => i % 2 == 0) : numbers.Take(2);
            var lengths = piecewise ? numbers.Where((_, i) => i % 2 == 1) : numbers.Skip(2);
            return new ScheduleValue((ScheduleKind)Enum.Parse(typeof(ScheduleKind), call.Function.Name),
                values.ToEquatableArray(), lengths.ToEquatableArray(), call.NumberValue("from"), call.NumberValue("warmup"));
        },
    };

    private static void CheckIf(Checker checker, BoundCall call)
    {
        if (call.Arguments[1] is not BoundTerm)
        {
            checker.ReportCall(call.Function, call.Syntax.Arguments[1].Value.Span,
                $"its second argument must be the name of a [Term] method, which is then called only when the switch is on, but this is '{checker.TextOf(call.Syntax.Arguments[1].Value.Span)}'; switch the terms of an expression one by one");
        }
    }

    private static void CheckSchedule(Checker checker, BoundCall call)
    {
        double? Literal(int argument) => ((BoundNumber)call.Arguments[argument]).Value.Constant;
        if (call.Function.Name != "Piecewise")
        {
            if (Literal(2) is double steps && !(steps > 0))
            {
                checker.ReportCall(call.Function, call.Syntax.Arguments[2].Value.Span, $"its number of steps must be greater than 0, but it is {Literals.Display(steps)}");
            }
        }
        else if (call.Arguments.Count % 2 == 0)
        {
            checker.ReportCall(call.Function, call.Syntax.Span,
                $"it takes {call.Function.ArgumentsText}, so an odd number of arguments, but {call.Arguments.Count} were given; write {call.Function.Usage}");
        }
        else
        {
            double? previous = null;
            for (int i = 1; i < call.Arguments.Count; i += 2)
            {
                double? milestone = Literal(i);
                if (milestone is double m && !(m >= 0))
                {
                    checker.ReportCall(call.Function, call.Syntax.Arguments[i].Value.Span, $"its milestone must be a step, 0 or more, but it is {Literals.Display(m)}");
                    return;
                }
                if (milestone is double next && previous is double before && !(next > before))
                {
                    checker.ReportCall(call.Function, call.Syntax.Arguments[i].Value.Span,
                        $"its milestones must increase, but {Literals.Display(next)} follows {Literals.Display(before)}");
                    return;
                }
                previous = milestone;
            }
        }
        foreach (string option in new[] { "from", "warmup" })
        {
            if (call.NumberValue(option)?.Constant is double value && !(value >= 0))
            {
                checker.ReportCall(call.Function, call.Options[option].Syntax.Value.Span, $"its option '{option}' must be 0 or more, but it is {Literals.Display(value)}");
            }
        }
    }

    /// <summary>
    /// A math function: its leading arguments may be numbers or tensors (Clamp's bounds are
    /// numbers); on numbers only it is a number, folded when every argument is a literal.
    /// </summary>
    private static FunctionEntry MathEntry(MathFunction function, string usage, string arguments, int count, int tensorOrNumber) => new()
    {
        Name = function.ToString(),
        Usage = usage,
        ArgumentsText = arguments,
        MinArguments = count,
        MaxArguments = count,
        ArgumentKind = ValueKind.Number,
        TensorOrNumberArguments = tensorOrNumber,
        ArgumentRole = "clamps a value to bounds that must be numbers",
        Descriptor = DiagnosticDescriptors.InvalidMath,
        Check = (checker, call) =>
        {
            var numbers = call.Arguments.OfType<BoundNumber>().Select(a => a.Value).ToList();
            if (function == MathFunction.Clamp)
            {
                CheckClamp(checker, call);
            }
            if (numbers.Count == call.Arguments.Count)
            {
                checker.ReportNonFiniteMath(function, numbers, call.Syntax.Span);
            }
        },
        Number = call => call.Arguments.All(a => a is BoundNumber)
            ? Numbers.Math(function, call.Arguments.Select(a => ((BoundNumber)a).Value).ToArray())
            : null,
        Lower = (lowerer, call) => lowerer.MathFunctionCall(function, call),
    };

    /// <summary>Clamp's bounds, when both are literals, must not be crossed (torch.clamp would return hi everywhere).</summary>
    private static void CheckClamp(Checker checker, BoundCall call)
    {
        if (((BoundNumber)call.Arguments[1]).Value.Constant is double low && ((BoundNumber)call.Arguments[2]).Value.Constant is double high && low > high)
        {
            var bounds = Formula.FormulaSpan.FromBounds(call.Syntax.Arguments[1].Value.Span.Start, call.Syntax.Arguments[2].Value.Span.End);
            checker.ReportCall(call.Function, bounds, $"its lower bound ({Literals.Number(low)}) is greater than its upper bound ({Literals.Number(high)})");
        }
    }

    private static void CheckBalance(Checker checker, BoundCall call)
    {
        if (call.Options.TryGetValue("stabilizer", out BoundOption? stabilizer) && call.Options.TryGetValue("eps", out BoundOption? eps))
        {
            checker.ReportCall(call.Function, eps.Syntax.NameSpan,
                $"its eps: and stabilizer: are two ways to keep the ratio finite (1 where a magnitude is at most eps, or a divisor plus {checker.TextOf(stabilizer.Syntax.Value.Span)}); give one");
            return;
        }
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
