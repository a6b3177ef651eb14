using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Functions;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Lowering;

// The lowerings the function table points at, and the state they keep.
internal sealed partial class Lowerer
{
    private readonly Dictionary<string, Local> _magnitudes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Local> _detached = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorExpr> _scales = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Local> _gradientNorms = new(StringComparer.Ordinal);
    private readonly Dictionary<ParameterSet, Local> _parameterLists = new();
    private readonly List<StateSiteSpec> _stateSites = new();
    private bool _keepsStatistics;

    private string StateProperty => _declaration.MethodName + "State";

    public LoweredValue Detach(BoundCall call)
    {
        Local source = Materialize(LowerTensor(call.Arguments[0]), "detachInput");
        if (!_detached.TryGetValue(source.Name, out Local? detached))
        {
            detached = _names.Local(source.Name.TrimStart('@') + "Detached", $"sg({source.Display})");
            _steps.Add(new DetachStep(detached, source));
            Define(detached, TensorExpr.Var(source));
            _detached[source.Name] = detached;
        }
        return Tensor(detached);
    }

    public LoweredValue Balance(BoundCall call)
    {
        // Both operands are lowered before either is materialised: terms are called in the order written.
        TensorExpr source = LowerTensor(call.Arguments[0]), target = LowerTensor(call.Tensor("to")!);
        Local x = Materialize(source, "balanceInput");
        Local y = Materialize(target, "balanceTarget");
        bool perElement = call.Arguments[0].Kind == ValueKind.List;
        double epsilon = call.Number("eps")!.Value;
        double? min = call.Number("min"), max = call.Number("max"), beta = call.Number("ema"), stabilizer = call.Number("stabilizer");
        ParameterSet? by = call.Parameters("by")?.Set;
        string key = $"{x.Name}|{y.Name}|{epsilon:R}|{min:R}|{max:R}|{beta:R}|{stabilizer:R}|{by}";
        if (!_scales.TryGetValue(key, out TensorExpr? scale))
        {
            string xName = Naming.Pascal(x.Display), yName = Naming.Pascal(y.Display);
            string property = _names.Property(Namer.IsPlainName(xName)
                ? (_names.PropertyTaken(xName + "Scale") && Namer.IsPlainName(yName) ? $"{xName}To{yName}Scale" : $"{xName}Scale")
                : "BalanceScale");
            Local variable = _names.Local(Naming.Camel(property), property);
            string? site = beta is null ? null : Site("balance");
            if (by is not null)
            {
                // The gradients' norms replace the magnitudes; a value's rounding does not enter its gradient.
                string rule = $"Balance({Bare(x.Display)}, to: {Bare(y.Display)}, by: Gradient({by.Name}))";
                if (site is null)
                {
                    Local xNorm = GradientNorm(x, by, rule), yNorm = GradientNorm(y, by, rule);
                    _steps.Add(new ScaleStep(variable, x, y, EquatableArray<RoundingBound>.Empty, EquatableArray<Magnitude>.Empty, xNorm, yNorm, null, null, epsilon, min, max)
                    {
                        By = by,
                        Stabilizer = stabilizer,
                    });
                }
                else
                {
                    _steps.Add(new EmaScaleStep(variable, x, y, site, beta!.Value, epsilon, min, max, EquatableArray<RoundingBound>.Empty, null, null)
                    {
                        By = by,
                        Rule = rule,
                        Stabilizer = stabilizer,
                    });
                }
            }
            else
            {
                var newBounds = new List<RoundingBound>();
                Local? xBound = RoundingBound(x, newBounds), yBound = RoundingBound(y, newBounds);
                if (site is null)
                {
                    var newMagnitudes = new List<Magnitude>();
                    Local xMagnitude = Magnitude(x, xBound, newMagnitudes);
                    Local yMagnitude = Magnitude(y, yBound, newMagnitudes);
                    _steps.Add(new ScaleStep(variable, x, y, newBounds.ToEquatableArray(), newMagnitudes.ToEquatableArray(), xMagnitude, yMagnitude, xBound, yBound, epsilon, min, max)
                    {
                        PerElement = perElement,
                        Stabilizer = stabilizer,
                    });
                }
                else
                {
                    _steps.Add(new EmaScaleStep(variable, x, y, site, beta!.Value, epsilon, min, max, newBounds.ToEquatableArray(), xBound, yBound) { Stabilizer = stabilizer });
                }
            }
            if (site is not null)
            {
                _stateSites.Add(new StateSiteSpec(site, call.Function.StateClass!, 0));
                _keepsStatistics = true;
            }
            _scaleMembers.Add(new ResultMemberSpec(property, variable, _names.MetricKey(property), MemberRole.Scale, "") { List = perElement ? Unbound(variable, call.Arguments[0]) : null });
            scale = TensorExpr.Var(variable);
            _scales[key] = scale;
        }
        return new LoweredTensor(new TensorExpr(TensorOp.Product, TensorExpr.Var(x), Variable: scale.Variable));
    }

    /// <summary>A value as written inside a call's parentheses: without the parentheses its display may carry.</summary>
    private static string Bare(string display)
    {
        if (display.Length < 2 || display[0] != '(' || display[display.Length - 1] != ')')
        {
            return display;
        }
        int depth = 0;
        for (int i = 0; i < display.Length - 1; i++)
        {
            depth += display[i] == '(' ? 1 : display[i] == ')' ? -1 : 0;
            if (depth == 0)
            {
                return display; // the first parenthesis closes before the end: (a) * (b)
            }
        }
        return display.Substring(1, display.Length - 2);
    }

    /// <summary>‖∇_P x‖, computed once per value and parameters however many rules read it.</summary>
    private Local GradientNorm(Local value, ParameterSet parameters, string rule)
    {
        string key = value.Name + "|" + parameters;
        if (!_gradientNorms.TryGetValue(key, out Local? norm))
        {
            if (!_parameterLists.TryGetValue(parameters, out Local? list))
            {
                list = _names.Local(Naming.Camel(parameters.Name).TrimStart('@') + "Parameters", $"the parameters of {parameters.Name}");
                _steps.Add(new ParametersStep(list, parameters));
                _parameterLists[parameters] = list;
            }
            norm = _names.Local(value.Name.TrimStart('@') + "GradientNorm", $"||grad_{parameters.Name}({value.Display})||");
            _steps.Add(new GradientNormStep(norm, value, parameters, list, rule));
            _gradientNorms[key] = norm;
        }
        return norm;
    }

    /// <summary>
    /// A stabilized scale by gradient whose two norms no other scale reads computes in place in them
    /// (<see cref="ScaleStep.Consume"/>): the norms are the call's own temporaries, so the ratio
    /// creates no tensor, as a hand-written version would.
    /// </summary>
    private void ConsumeOwnGradientNorms()
    {
        var readers = _steps.OfType<ScaleStep>().Where(s => s.By is not null)
            .SelectMany(s => new[] { s.SourceMagnitude.Name, s.TargetMagnitude.Name })
            .GroupBy(name => name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        for (int i = 0; i < _steps.Count; i++)
        {
            if (_steps[i] is ScaleStep { By: not null, Stabilizer: not null } scale
                && scale.SourceMagnitude.Name != scale.TargetMagnitude.Name
                && readers[scale.SourceMagnitude.Name] == 1 && readers[scale.TargetMagnitude.Name] == 1)
            {
                _steps[i] = scale with { Consume = true };
            }
        }
    }

    /// <summary>Anneal(x, to: y, by: Gradient(P), alpha: α): x times a smoothed ratio of gradient statistics kept in the state.</summary>
    public LoweredValue Anneal(BoundCall call)
    {
        TensorExpr source = LowerTensor(call.Arguments[0]), target = LowerTensor(call.Tensor("to")!);
        Local x = Materialize(source, "annealInput");
        Local y = Materialize(target, "annealTarget");
        ParameterSet by = call.Parameters("by")!.Set;
        double alpha = call.Number("alpha")!.Value;
        double? min = call.Number("min"), max = call.Number("max");
        string xName = Naming.Pascal(x.Display);
        string property = _names.Property(Namer.IsPlainName(xName) ? $"{xName}AnnealScale" : "AnnealScale");
        Local variable = _names.Local(Naming.Camel(property), property);
        string site = Site("anneal");
        _steps.Add(new AnnealStep(variable, x, y, by, site, alpha, min, max, $"Anneal({Bare(x.Display)}, to: {Bare(y.Display)}, by: Gradient({by.Name}))"));
        _stateSites.Add(new StateSiteSpec(site, call.Function.StateClass!, 0));
        _keepsStatistics = true;
        _scaleMembers.Add(new ResultMemberSpec(property, variable, _names.MetricKey(property), MemberRole.Scale, ""));
        return new LoweredTensor(new TensorExpr(TensorOp.Product, TensorExpr.Var(x), Variable: variable));
    }

    /// <summary>Sum or Mean of a list: one tensor.</summary>
    public LoweredValue Reduce(BoundCall call, TensorOp op) => new LoweredTensor(new TensorExpr(op, Left: LowerTensor(call.Arguments[0])));

    /// <summary>The local holding |sg(x)|; a new one is added to <paramref name="added"/> to be computed with the scale.</summary>
    private Local Magnitude(Local variable, Local? bound, List<Magnitude> added)
    {
        if (!_magnitudes.TryGetValue(variable.Name, out Local? magnitude))
        {
            magnitude = _names.Local(variable.Name.TrimStart('@') + "Magnitude", $"|sg({variable.Display})|");
            added.Add(new Magnitude(magnitude, variable, bound));
            if (bound is null)
            {
                _plainMagnitudes[variable.Name] = magnitude;
            }
            _magnitudes[variable.Name] = magnitude;
        }
        return magnitude;
    }

    /// <summary>A weighting function (Uncertainty, Dwa, CoV): a total and one weight per argument.</summary>
    public LoweredValue Weighting(BoundCall call)
    {
        FunctionEntry function = call.Function;
        var arguments = call.Arguments.Select(a => Materialize(LowerTensor(a), "weighted")).ToList();
        string stem = function.WeightStem ?? function.Name.Substring(0, 1).ToUpperInvariant() + function.Name.Substring(1).ToLowerInvariant();
        string? site = function.KeepsState(call) ? Site(function.Name) : null;
        Local total = _names.Local(function.Name.ToLowerInvariant(), $"{function.Name}({string.Join(", ", arguments.Select(a => a.Display))})");
        string weights = _names.LocalName(function.Name.ToLowerInvariant() + "Weights");
        var weightLocals = new List<Local>();
        foreach (Local argument in arguments)
        {
            // HardDwaWeight, SoftCovWeight, …: the argument and the function, so two weightings of one term stay apart.
            string name = Naming.Pascal(argument.Display);
            string property = _names.Property(Namer.IsPlainName(name) ? $"{name}{stem}Weight" : $"{stem}Weight");
            Local weight = _names.Local(Naming.Camel(property), property);
            weightLocals.Add(weight);
            _scaleMembers.Add(new ResultMemberSpec(property, weight, _names.MetricKey(property), MemberRole.Weight, argument.Display, function.Name));
        }
        var options = function.Options
            .Where(o => o.Kind == ValueKind.Number && call.Number(o.Name) is not null)
            .Select(o => new OptionValue(o.Name, call.Number(o.Name)!.Value, o.Rule?.IsWhole == true))
            .ToEquatableArray();
        ParameterSet? shared = call.Parameters("shared")?.Set;
        _steps.Add(new WeightingStep(function.Name, total, weights, weightLocals.ToEquatableArray(), site, arguments.ToEquatableArray(), options)
        {
            Shared = shared,
            Rule = shared is null ? "" : $"{function.Name}({string.Join(", ", arguments.Select(a => a.Display))}, shared: {shared.Name})",
        });
        if (function.IsWeightedSum)
        {
            DefineWeightedSum(total, arguments, weightLocals);
        }
        if (site is not null)
        {
            _stateSites.Add(new StateSiteSpec(site, function.StateClass!, arguments.Count));
            _keepsStatistics |= function.KeepsStatistics;
        }
        return Tensor(total);
    }

    private string Site(string kind)
    {
        string prefix = kind.ToLowerInvariant();
        return $"{prefix}{_stateSites.Count(s => s.Name.StartsWith(prefix, StringComparison.Ordinal))}";
    }

    /// <summary>Schedules read the step: its site is added once, where the first schedule is.</summary>
    private void UseStep()
    {
        if (!_stateSites.Any(s => s.Name == "step"))
        {
            _stateSites.Add(new StateSiteSpec("step", "StepState", 0));
        }
    }

    /// <summary>
    /// The count of skipped observations, last of the plan and of the result, in a formula whose
    /// state keeps statistics: named after everything else, so it takes no user's name.
    /// </summary>
    private ResultMemberSpec? SkippedUpdates(string lossVariable)
    {
        if (!_keepsStatistics)
        {
            return null;
        }
        string property = _names.Property("SkippedUpdates");
        Local variable = _names.Local(Naming.Camel(property), property);
        _steps.Add(new SkippedUpdatesStep(variable, lossVariable));
        return new ResultMemberSpec(property, variable, _names.MetricKey(property), MemberRole.SkippedUpdates, "");
    }

    private StateSpec? State()
        => _stateSites.Count == 0 ? null : new StateSpec(StateProperty, "__lossDsl" + StateProperty, _stateSites.ToEquatableArray(), _names.LocalName("call"));
}
