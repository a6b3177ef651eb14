using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Functions;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Emit;

/// <summary>
/// The <c>{Method}Explanation</c> text of a plan, in the formula's own words: one line per term,
/// stop-gradient, scale, weighting and binding, in evaluation order, then what holds for all.
/// </summary>
internal static class ExplanationWriter
{
    /// <summary>A term's line: its call as written, and when a switch guards it, what it is when off.</summary>
    private static string TermLine(string method, EquatableArray<string> arguments, bool byName, TermSwitch? onlyWhen, string whenOff, string what)
    {
        string call = $"{method} = {method}({string.Join(", ", arguments)}{(byName ? ", defaults for the rest" : "")})";
        return onlyWhen is null
            ? $"{call}   [{what}, called once]"
            : $"{call} if {onlyWhen.Name}, else {whenOff} (not called)   [{what}, called at most once]";
    }

    public static IReadOnlyList<string> Lines(PlanBody plan)
    {
        var lines = new List<string>(plan.Steps.Count + 2);
        foreach (PlanStep step in plan.Steps)
        {
            switch (step)
            {
                case TermStep term:
                    lines.Add(TermLine(term.Method, term.Arguments, term.ByName, term.OnlyWhen, "0", "term"));
                    break;
                case TermListStep list:
                    lines.Add(TermLine(list.Method, list.Arguments, list.ByName, list.OnlyWhen, "a list of one 0", "term, a list: one 0-dim tensor per element"));
                    break;
                case DetachStep detach:
                    lines.Add($"sg({detach.Source.Display}) = {detach.Source.Display}.detach()");
                    break;
                case ParametersStep:
                    break; // the norms' lines say which parameters they take
                case GradientNormStep norm:
                    lines.Add($"{norm.Variable.Display} = L2 norm of the gradient of {norm.Source.Display} on {norm.Parameters.Name} (autograd.grad, retain_graph: nothing reaches .grad)   [no gradient]");
                    break;
                case ScaleStep { By: ParameterSet by } gradient:
                    lines.Add($"{gradient.Variable.Display} = {gradient.TargetMagnitude.Display} / " +
                              (gradient.Stabilizer is double delta ? $"({gradient.SourceMagnitude.Display} + {Literals.Number(delta)})" : gradient.SourceMagnitude.Display) +
                              Clamp(gradient.Min, gradient.Max) +
                              (gradient.Stabilizer is null ? $", or 1 where either norm <= {Literals.Number(gradient.Epsilon)}" : "") + "   [no gradient]");
                    break;
                case AnnealStep anneal:
                    lines.Add($"{anneal.Variable.Display} = l, l <- {Literals.Number(1 - anneal.Alpha)} * l + {Literals.Number(anneal.Alpha)} * max|grad_{anneal.Parameters.Name}({anneal.Target.Display})| / mean|grad_{anneal.Parameters.Name}({anneal.Source.Display})| " +
                              $"while training (autograd.grad, retain_graph), l = 1 at first{Clamp(anneal.Min, anneal.Max)}   [state: {anneal.Site}, no gradient]");
                    break;
                case ScaleStep scale:
                    AddBounds(lines, scale.NewBounds);
                    string divisor = scale.Stabilizer is double scaleDelta ? $"(|sg({scale.Source.Display})| + {Literals.Number(scaleDelta)})" : $"|sg({scale.Source.Display})|";
                    string guard = scale.Stabilizer is null ? $", or 1 where either magnitude <= {Literals.Number(scale.Epsilon)}" : "";
                    lines.Add($"{scale.Variable.Display} = |sg({scale.Target.Display})| / {divisor}{(scale.PerElement ? $" for each element of {scale.Source.Display}" : "")}{Clamp(scale.Min, scale.Max)}" +
                              $"{guard}{Residue(scale.Source, scale.SourceBound, scale.Target, scale.TargetBound)}   [no gradient]");
                    break;
                case EmaScaleStep { By: ParameterSet emaBy } gradientEma:
                    string sourceNorm = $"||grad_{emaBy.Name}({gradientEma.Source.Display})||", targetNorm = $"||grad_{emaBy.Name}({gradientEma.Target.Display})||";
                    lines.Add($"{gradientEma.Variable.Display} = m({targetNorm}) / " +
                              (gradientEma.Stabilizer is double emaDelta ? $"(m({sourceNorm}) + {Literals.Number(emaDelta)})" : $"m({sourceNorm})") +
                              $"{Clamp(gradientEma.Min, gradientEma.Max)}, m a bias-corrected moving average (beta {Literals.Number(gradientEma.Beta)})" +
                              (gradientEma.Stabilizer is null ? $", or 1 where either is <= {Literals.Number(gradientEma.Epsilon)}" : "") +
                              $"; the norms by autograd.grad on {emaBy.Name} (retain_graph), not taken outside training under no_grad   [state: {gradientEma.Site}, no gradient]");
                    break;
                case EmaScaleStep ema:
                    AddBounds(lines, ema.NewBounds);
                    string emaDivisor = ema.Stabilizer is double stabilizer ? $"(m(|sg({ema.Source.Display})|) + {Literals.Number(stabilizer)})" : $"m(|sg({ema.Source.Display})|)";
                    lines.Add($"{ema.Variable.Display} = m(|sg({ema.Target.Display})|) / {emaDivisor}{Clamp(ema.Min, ema.Max)}, " +
                              $"m a bias-corrected moving average (beta {Literals.Number(ema.Beta)}){(ema.Stabilizer is null ? $", or 1 where either is <= {Literals.Number(ema.Epsilon)}" : "")}{Residue(ema.Source, ema.SourceBound, ema.Target, ema.TargetBound)}   [state: {ema.Site}, no gradient]");
                    break;
                case WeightingStep weighting:
                    lines.Add($"{weighting.Total.Display} = {FunctionTable.Find(weighting.Function)!.Explain!(weighting)}");
                    break;
                case TensorStep { Binding: string name } tensor:
                    lines.Add($"{name} = {Describe(tensor.Value)}{(tensor.IsLoss ? "   [the loss]" : "")}");
                    break;
                case NumberStep number:
                    lines.Add($"{number.Binding} = {Describe(number.Value)}   [a number]");
                    break;
                case SkippedUpdatesStep skipped:
                    lines.Add($"{skipped.Variable.Display} = the observations left out of the statistics because they were not finite, so far   [state]");
                    break;
                case CommentStep or ExternalTensorStep or TensorStep:
                    break; // a formula line, an input read, an operand materialised for a function: no line of their own
                default:
                    throw new System.InvalidOperationException($"No explanation for {step.GetType().Name}.");
            }
        }
        if (plan.Steps.Any(ReadsStep))
        {
            lines.Add($"The schedules read {plan.State!.Property}.Step, which the training loop advances.");
        }
        bool stopsGradients = plan.Steps.Any(s => s is ScaleStep or EmaScaleStep or DetachStep or AnnealStep
            || s is WeightingStep w && FunctionTable.Find(w.Function)!.StopsGradients);
        lines.Add(stopsGradients
            ? "sg(x) is x with its gradient stopped: no gradient flows through a scale. No step synchronises with the host."
            : "No step synchronises with the host.");
        return lines;
    }

    private static void AddBounds(List<string> lines, EquatableArray<RoundingBound> bounds)
    {
        foreach (RoundingBound bound in bounds)
        {
            lines.Add($"{bound.Variable.Display} = {Describe(bound.Value)}   [rounding bound, no gradient]");
        }
    }

    /// <summary>Which magnitudes count as 0 within rounding of what they were computed from.</summary>
    private static string Residue(Local source, Local? sourceBound, Local target, Local? targetBound)
    {
        var parts = new List<string>();
        if (sourceBound is not null)
        {
            parts.Add($"|sg({source.Display})|");
        }
        if (targetBound is not null)
        {
            parts.Add($"|sg({target.Display})|");
        }
        string bounds = string.Join(" and ", new[] { sourceBound, targetBound }.Where(b => b is not null).Select(b => b!.Display));
        return parts.Count == 0 ? "" : $"; {string.Join(" and ", parts)} {(parts.Count == 1 ? "counts" : "count")} as 0 within rounding of {bounds}";
    }

    private static string Clamp(double? min, double? max) => (min, max) switch
    {
        (null, null) => "",
        (double lo, null) => $", at least {Literals.Number(lo)}",
        (null, double hi) => $", at most {Literals.Number(hi)}",
        (double lo, double hi) => $", clamped to [{Literals.Number(lo)}, {Literals.Number(hi)}]",
    };

    private static bool ReadsStep(PlanStep step) => step switch
    {
        NumberStep number => Numbers.ReadsStep(number.Value),
        TensorStep tensor => ReadsStep(tensor.Value),
        _ => false,
    };

    private static bool ReadsStep(TensorExpr? e) => e is not null && (Numbers.ReadsStep(e.Number) || Numbers.ReadsStep(e.High) || ReadsStep(e.Left) || ReadsStep(e.Right));

    /// <summary>The math of a lowered expression in the formula's names.</summary>
    public static string Describe(TensorExpr e) => e.Op switch
    {
        TensorOp.Variable => e.Variable!.Display,
        TensorOp.Alias => Describe(e.Left!),
        TensorOp.Add => $"{Describe(e.Left!)} + {Describe(e.Right!)}",
        TensorOp.Subtract => $"{Describe(e.Left!)} - {Group(e.Right!)}",
        TensorOp.Multiply => $"{Group(e.Left!)} * {Group(e.Right!)}",
        TensorOp.Divide => $"{Group(e.Left!)} / {Group(e.Right!)}",
        TensorOp.Negate => $"-{Group(e.Left!)}",
        TensorOp.AddNumber => $"{Describe(e.Left!)} + {Describe(e.Number!)}",
        TensorOp.NumberMinus => $"{Describe(e.Number!)} - {Group(e.Left!)}",
        TensorOp.MulNumber => $"{Describe(e.Number!)} * {Group(e.Left!)}",
        TensorOp.DivNumber => $"{Group(e.Left!)} / {Describe(e.Number!)}",
        TensorOp.NumberDiv => $"{Describe(e.Number!)} / {Group(e.Left!)}",
        TensorOp.AddScaled => $"{Describe(e.Left!)} + {Describe(e.Number!)} * {Group(e.Right!)}",
        TensorOp.AddProduct => e.Number!.Constant == 1
            ? $"{Describe(e.Left!)} + {Group(e.Right!)} * {e.Variable!.Display}"
            : $"{Describe(e.Left!)} + {Describe(e.Number!)} * {Group(e.Right!)} * {e.Variable!.Display}",
        TensorOp.Product => $"{Group(e.Left!)} * {e.Variable!.Display}",
        TensorOp.Abs => $"|{Describe(e.Left!)}|",
        TensorOp.Sqrt => $"Sqrt({Describe(e.Left!)})",
        TensorOp.Log => $"Log({Describe(e.Left!)})",
        TensorOp.Exp => $"Exp({Describe(e.Left!)})",
        TensorOp.Minimum => $"Min({Describe(e.Left!)}, {Describe(e.Right!)})",
        TensorOp.Maximum => $"Max({Describe(e.Left!)}, {Describe(e.Right!)})",
        TensorOp.MinNumber => $"Min({Describe(e.Left!)}, {Describe(e.Number!)})",
        TensorOp.MaxNumber => $"Max({Describe(e.Left!)}, {Describe(e.Number!)})",
        TensorOp.Clamp => $"Clamp({Describe(e.Left!)}, {Describe(e.Number!)}, {Describe(e.High!)})",
        TensorOp.Pow => $"{PowerOperand(e.Left!)}^{PowerOperand(e.Right!)}",
        TensorOp.PowNumber => $"{PowerOperand(e.Left!)}^{PowerOperand(e.Number!)}",
        TensorOp.NumberPow => $"{PowerOperand(e.Number!)}^{PowerOperand(e.Left!)}",
        TensorOp.Sum => $"Sum({Describe(e.Left!)})",
        TensorOp.Mean => $"Mean({Describe(e.Left!)})",
        _ => throw new System.InvalidOperationException($"No description for {e.Op}."),
    };

    private static string Group(TensorExpr e)
        => e.Op is TensorOp.Variable or TensorOp.Alias or TensorOp.Abs or TensorOp.Sum or TensorOp.Mean or TensorOp.Multiply or TensorOp.Product or TensorOp.MulNumber
                or TensorOp.Sqrt or TensorOp.Log or TensorOp.Exp or TensorOp.Minimum or TensorOp.Maximum or TensorOp.MinNumber or TensorOp.MaxNumber or TensorOp.Clamp
            ? Describe(e)
            : $"({Describe(e)})";

    /// <summary>A schedule as the formula writes it (Piecewise's values and milestones interleaved again).</summary>
    public static string Describe(ScheduleValue schedule)
    {
        IEnumerable<NumberExpr> arguments = schedule.Kind == ScheduleKind.Piecewise
            ? schedule.Values.SelectMany((v, i) => i == 0 ? new[] { v } : new[] { schedule.Lengths[i - 1], v })
            : schedule.Values.Concat(schedule.Lengths);
        var written = arguments.Select(Describe).ToList();
        if (schedule.From is not null)
        {
            written.Add("from: " + Describe(schedule.From));
        }
        if (schedule.Warmup is not null)
        {
            written.Add("warmup: " + Describe(schedule.Warmup));
        }
        return $"{schedule.Kind}({string.Join(", ", written)})";
    }
    /// <summary>A base or exponent of a power: in parentheses unless it is a name, a call or |x|.</summary>
    private static string PowerOperand(TensorExpr e)
        => e.Op is TensorOp.Variable or TensorOp.Alias or TensorOp.Abs or TensorOp.Sqrt or TensorOp.Log or TensorOp.Exp
                or TensorOp.Minimum or TensorOp.Maximum or TensorOp.MinNumber or TensorOp.MaxNumber or TensorOp.Clamp
            ? Describe(e)
            : $"({Describe(e)})";

    /// <summary>A number as a base or exponent of a power: in parentheses unless it is a name or a literal of at least 0.</summary>
    private static string PowerOperand(NumberExpr number)
        => number is NumberRead or NumberAbs or NumberMath or ScheduleValue or NumberConstant { Name: not null } or NumberConstant { Value: >= 0 }
            ? Describe(number)
            : $"({Describe(number)})";

    /// <summary>A number as the formula writes it.</summary>
    public static string Describe(NumberExpr number) => number switch
    {
        NumberConstant constant => constant.Name ?? Literals.Display(constant.Value),
        NumberRead read => read.Name,
        NumberNegate negate => $"-{Describe(negate.Operand)}",
        NumberAbs abs => $"|{Describe(abs.Operand)}|",
        NumberBinary binary => $"({Describe(binary.Left)} {binary.Operator} {Describe(binary.Right)})",
        NumberMath math => $"{math.Function}({string.Join(", ", math.Arguments.Select(Describe))})",
        ScheduleValue schedule => Describe(schedule),
        _ => throw new System.InvalidOperationException($"No description for {number.GetType().Name}."),
    };
}
