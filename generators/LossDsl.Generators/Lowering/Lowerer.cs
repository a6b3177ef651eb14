using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Emit;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace LossDsl.Generators.Lowering;

/// <summary>
/// Turns a checked formula into a plan in evaluation order: each term is called once at its
/// first use, each magnitude, stop-gradient and scale is computed once, and <c>a + s * b</c>
/// shapes become fused operations. It never fails: everything was checked before.
/// </summary>
internal sealed partial class Lowerer
{
    private readonly LossDeclaration _declaration;
    private readonly Namer _names;
    private readonly List<PlanStep> _steps = new();

    private readonly Dictionary<string, Local> _externals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Local> _bindings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Local> _numberBindings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Local> _listNames = new(StringComparer.Ordinal);
    private readonly Dictionary<TensorExpr, TensorExpr> _materialized = new();
    private readonly HashSet<string> _nullChecked = new(StringComparer.Ordinal);
    private readonly Dictionary<ScheduleValue, Local> _schedules = new();
    private BoundBinding? _scheduleBinding;
    private readonly Dictionary<string, HashSet<string>> _numberReaders = new(StringComparer.Ordinal);
    private string _currentBinding = "";

    private readonly List<ResultMemberSpec> _terms = new();
    private readonly List<ResultMemberSpec> _boundTensors = new();
    private readonly List<ResultMemberSpec> _scaleMembers = new();
    private readonly List<ResultMemberSpec> _numberMembers = new();

    private Lowerer(LossDeclaration declaration)
    {
        _declaration = declaration;
        _names = new Namer(declaration);
    }

    /// <summary>The plan of <paramref name="formula"/> and the result's members, loss first.</summary>
    public static PlanBody Lower(LossDeclaration declaration, CheckedFormula formula, bool checkFinite)
        => new Lowerer(declaration).Run(formula, checkFinite);

    private PlanBody Run(CheckedFormula formula, bool checkFinite)
    {
        string scope = _names.LocalName("scope");
        string result = _names.LocalName("result");
        string lossVariable = "";
        foreach (BoundBinding binding in formula.Bindings)
        {
            string? variable = LowerBinding(binding);
            if (binding.IsLoss && variable is not null)
            {
                lossVariable = variable;
            }
        }

        // The loss first, then terms in call order, the other bindings, the scales, and the skipped updates.
        var members = new List<ResultMemberSpec>();
        members.AddRange(_boundTensors.Where(m => m.Variable.Name == lossVariable));
        members.AddRange(_terms);
        members.AddRange(_boundTensors.Where(m => m.Variable.Name != lossVariable));
        members.AddRange(_scaleMembers);
        if (SkippedUpdates(lossVariable) is ResultMemberSpec skipped)
        {
            members.Add(skipped);
        }
        if (_declaration.ResultTypeName is not null)
        {
            // The numbers last: every number binding that is not a literal and every schedule, in formula order.
            members.AddRange(_numberMembers);
        }
        else
        {
            // Without a result, a number nothing computed reads is explained but not computed: its local
            // would be unused (CS0219). Numbers read only earlier ones, so the last are decided first.
            var computed = new HashSet<string>(StringComparer.Ordinal);
            for (int i = _steps.Count - 1; i >= 0; i--)
            {
                if (_steps[i] is NumberStep { Variable: Local local } number)
                {
                    bool read = _numberReaders.TryGetValue(local.Name, out HashSet<string>? readers)
                        && readers.Any(r => !_numberBindings.ContainsKey(r) || computed.Contains(r));
                    if (read)
                    {
                        computed.Add(number.Binding);
                    }
                    else
                    {
                        _steps[i] = number with { Variable = null };
                    }
                }
            }
        }
        var nullChecked = _declaration.Parameters.Where(p => _nullChecked.Contains(p.Name)).Select(p => p.Name).ToEquatableArray();
        // An ID the pragma cannot name (not an identifier) is left to the compiler.
        var obsoleteIds = formula.ObsoleteIds.Where(id => SyntaxFacts.IsValidIdentifier(id)).ToEquatableArray();
        ConsumeOwnGradientNorms();
        DropNeedlessAliases(members);
        return new PlanBody(members.ToEquatableArray(), _steps.ToEquatableArray(), lossVariable, scope, result, checkFinite, State(), nullChecked, obsoleteIds);
    }

    /// <summary>
    /// A binding that is a bare name gets its own handle (<see cref="TensorOp.Alias"/>) only when the
    /// tensor is held elsewhere: by another member of the result (a term, a binding, a scale), by the
    /// caller (a Tensor parameter or member), or by an earlier binding of the same tensor. A
    /// temporary of the call that nothing else holds (a weighting's total, a Detach) is bound as it
    /// is: the result's dispose is then its only one, and no tensor is created for the handle.
    /// </summary>
    private void DropNeedlessAliases(List<ResultMemberSpec> members)
    {
        var bindings = new HashSet<string>(members.Where(m => m.Role is MemberRole.Loss or MemberRole.Binding).Select(m => m.Variable.Name), StringComparer.Ordinal);
        var held = new HashSet<string>(members.Where(m => !bindings.Contains(m.Variable.Name)).Select(m => m.Variable.Name), StringComparer.Ordinal);
        held.UnionWith(_steps.OfType<ExternalTensorStep>().Select(s => s.Variable.Name));
        for (int i = 0; i < _steps.Count; i++)
        {
            if (_steps[i] is TensorStep { Value: { Op: TensorOp.Alias, Left: { Op: TensorOp.Variable, Variable: Local source } } } step
                && bindings.Contains(step.Variable.Name) && !bindings.Contains(source.Name) && held.Add(source.Name))
            {
                _steps[i] = step with { Value = TensorExpr.Var(source) };
            }
        }
    }

    /// <summary>Lowers one line; returns the variable holding its value when it is a tensor.</summary>
    private string? LowerBinding(BoundBinding binding)
    {
        _steps.Add(new CommentStep(binding.Line));
        _currentBinding = binding.Name;
        // A binding whose value is a schedule names it: Alpha = Cosine(…) is one local and one property, Alpha.
        _scheduleBinding = binding.Value is BoundNumber { Value: ScheduleValue } ? binding : null;
        LoweredValue value = Lower(binding.Value);
        _scheduleBinding = null;
        switch (value)
        {
            case LoweredTensor tensor:
                Local variable = _names.Local(Naming.Identifier(Naming.Camel(binding.Name)), binding.Name);
                // A bare name becomes its own handle, so the result never holds one tensor twice
                // (DropNeedlessAliases keeps the handle only where something else holds the tensor).
                TensorExpr expression = tensor.Expr.Op == TensorOp.Variable ? new TensorExpr(TensorOp.Alias, Left: tensor.Expr) : tensor.Expr;
                _steps.Add(new TensorStep(variable, expression, binding.Name, binding.IsLoss));
                Define(variable, expression);
                _bindings[binding.Name] = variable;
                string property = _names.Property(Naming.Pascal(binding.Name));
                _boundTensors.Add(new ResultMemberSpec(property, variable, _names.MetricKey(property), binding.IsLoss ? MemberRole.Loss : MemberRole.Binding, Written(binding))
                {
                    List = binding.Value.Kind == ValueKind.List ? Unbound(variable, binding.Value) : null,
                });
                return variable.Name;

            case LoweredNumber { Value: NumberRead { Source: NumberSource.Local } read } when read.Name == binding.Name:
                // The binding's schedule, computed into the binding's own local.
                _numberBindings[binding.Name] = new Local(read.Local!, binding.Name);
                return null;

            case LoweredNumber number:
                Local? local = number.Value.Constant is null ? _names.Local(Naming.Identifier(Naming.Camel(binding.Name)), binding.Name) : null;
                _steps.Add(new NumberStep(binding.Name, local, number.Value));
                if (local is not null)
                {
                    _numberBindings[binding.Name] = local;
                    _numberMembers.Add(NumberMember(_names.Property(Naming.Pascal(binding.Name)), local, MemberRole.Number, Written(binding)));
                }
                return null;

            default:
                return null;
        }
    }

    /// <summary>A formula line as written, its whitespace collapsed.</summary>
    private static string Written(BoundBinding binding) => string.Join(" ", binding.Line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>A number of the result: on the host already, so it is passed to the result as a double.</summary>
    private ResultMemberSpec NumberMember(string property, Local local, MemberRole role, string source)
        => new(property, local, _names.MetricKey(property), role, source);

    public LoweredValue Lower(BoundExpr value) => value switch
    {
        BoundNumber number => LowerNumberValue(number.Value),
        BoundTerm term => Tensor(term.Term.IsList ? TermList(term.Term) : Term(term.Term)),
        BoundTensorParameter parameter => Tensor(External(parameter.Name, ExternalKind.Parameter)),
        BoundTensorMember member => Tensor(External(member.Member.Name, member.Member.IsStatic ? ExternalKind.StaticMember : ExternalKind.Member, member.Member.Receiver)),
        BoundBindingRef reference => Tensor(_bindings[reference.Name]),
        BoundNegate negate => new LoweredTensor(new TensorExpr(TensorOp.Negate, Left: LowerTensor(negate.Operand))),
        BoundBinary binary => LowerBinary(binary),
        BoundCall call => call.Function.Lower(this, call),
        _ => throw new InvalidOperationException($"The checker let {value.GetType().Name} through."),
    };

    public TensorExpr LowerTensor(BoundExpr value) => ((LoweredTensor)Lower(value)).Expr;

    public NumberExpr LowerNumber(BoundExpr value) => ((LoweredNumber)Lower(value)).Value;

    private static LoweredTensor Tensor(Local local) => new(TensorExpr.Var(local));

    private LoweredNumber LowerNumberValue(NumberExpr value)
    {
        // Schedules read the state's step counter.
        if (Numbers.ReadsStep(value))
        {
            UseStep();
        }
        return new LoweredNumber(MaterializeSchedules(Numbers.Rewrite(value, ResolveNumberBinding), _scheduleBinding));
    }

    private NumberExpr ResolveNumberBinding(NumberRead read)
    {
        if (read.Source != NumberSource.Local)
        {
            return read;
        }
        string local = _numberBindings[read.Name].Name;
        ReadNumber(local);
        return read with { Local = local };
    }

    /// <summary>Notes that the current binding reads the number in the local <paramref name="name"/> (a number binding or a schedule).</summary>
    private void ReadNumber(string name)
    {
        if (!_numberReaders.TryGetValue(name, out HashSet<string>? readers))
        {
            _numberReaders[name] = readers = new HashSet<string>(StringComparer.Ordinal);
        }
        readers.Add(_currentBinding);
    }

    /// <summary>
    /// Computes every schedule in <paramref name="number"/> once per call into a local of its own
    /// (inner schedules first), which the result reports; the same schedule written twice is one
    /// local. <paramref name="binding"/> names the schedule that is a binding's whole value.
    /// </summary>
    private NumberExpr MaterializeSchedules(NumberExpr number, BoundBinding? binding = null)
    {
        switch (number)
        {
            case ScheduleValue schedule:
                schedule = schedule with
                {
                    Values = schedule.Values.Select(v => MaterializeSchedules(v)).ToEquatableArray(),
                    Lengths = schedule.Lengths.Select(l => MaterializeSchedules(l)).ToEquatableArray(),
                    From = schedule.From is null ? null : MaterializeSchedules(schedule.From),
                    Warmup = schedule.Warmup is null ? null : MaterializeSchedules(schedule.Warmup),
                };
                if (!_schedules.TryGetValue(schedule, out Local? local))
                {
                    if (binding is null)
                    {
                        string property = _names.Property(schedule.Kind + "Schedule");
                        local = _names.Local(Naming.Camel(property), property);
                        _numberMembers.Add(NumberMember(property, local, MemberRole.Schedule, ExplanationWriter.Describe(schedule)));
                    }
                    else
                    {
                        local = _names.Local(Naming.Identifier(Naming.Camel(binding.Name)), binding.Name);
                        _numberMembers.Add(NumberMember(_names.Property(Naming.Pascal(binding.Name)), local, MemberRole.Number, Written(binding)));
                    }
                    _steps.Add(new NumberStep(local.Display, local, schedule));
                    _schedules[schedule] = local;
                }
                ReadNumber(local.Name);
                return new NumberRead(NumberSource.Local, local.Display, IsDouble: true, Local: local.Name);
            case NumberNegate negate:
                return Numbers.Negate(MaterializeSchedules(negate.Operand));
            case NumberAbs abs:
                return Numbers.Abs(MaterializeSchedules(abs.Operand));
            case NumberBinary binary:
                return Numbers.Combine(binary.Operator, MaterializeSchedules(binary.Left), MaterializeSchedules(binary.Right));
            case NumberMath math:
                return Numbers.Math(math.Function, math.Arguments.Select(a => MaterializeSchedules(a)).ToArray());
            case NumberConstant or NumberRead:
                return number;
            default:
                throw new InvalidOperationException($"MaterializeSchedules does not know {number.GetType().Name}.");
        }
    }

    /// <summary><c>If(switch, Term)</c>: the term, called only when the switch is on, else a zero.</summary>
    public LoweredValue Switched(BoundCall call)
    {
        var onlyWhen = (BoundSwitch)call.Arguments[0];
        TermInfo term = ((BoundTerm)call.Arguments[1]).Term;
        var termSwitch = new TermSwitch(onlyWhen.Source, onlyWhen.Name, onlyWhen.Via, onlyWhen.Reference);
        return Tensor(term.IsList ? TermList(term, termSwitch) : Term(term, termSwitch));
    }

    /// <summary>Calls a term at its first use (the checker made every use of a switched term switch it the same way).</summary>
    private Local Term(TermInfo term, TermSwitch? onlyWhen = null)
    {
        if (!_externals.TryGetValue(term.Name, out Local? variable))
        {
            variable = _names.Local(Naming.Identifier(Naming.Camel(term.Name)), term.Name);
            var passed = Passed(term);
            _steps.Add(new TermStep(variable, term.Name, term.Receiver, passed.Select(p => p.Name).ToEquatableArray(), ByName: passed.Count < term.Parameters.Count, OnlyWhen: onlyWhen));
            string property = _names.Property(Naming.Pascal(term.Name));
            _terms.Add(new ResultMemberSpec(property, variable, _names.MetricKey(property), MemberRole.Term, term.Name));
            _externals[term.Name] = variable;
        }
        return variable;
    }

    /// <summary>
    /// The term's parameters the [Loss] method passes (one it does not have takes the term's default:
    /// the checker allowed only optional ones); a nullable [Loss] parameter passed where the term does
    /// not take null is checked on entry.
    /// </summary>
    private List<ParameterInfo> Passed(TermInfo term)
    {
        var passed = term.Parameters.Where(p => _declaration.Parameters.Any(d => d.Name == p.Name)).ToList();
        foreach (ParameterInfo needed in passed.Where(p => !p.AcceptsNull))
        {
            if (_declaration.Parameters.First(p => p.Name == needed.Name).MayBeNull)
            {
                _nullChecked.Add(needed.Name);
            }
        }
        return passed;
    }

    /// <summary>Calls a list term at its first use; its value is the stack of its elements.</summary>
    private Local TermList(TermInfo term, TermSwitch? onlyWhen = null)
    {
        if (!_externals.TryGetValue(term.Name, out Local? variable))
        {
            variable = _names.Local(Naming.Identifier(Naming.Camel(term.Name)), term.Name);
            Local elements = _names.Local(variable.Name.TrimStart('@') + "Elements", term.Name);
            Local? names = term.IsNamedList ? _names.Local(variable.Name.TrimStart('@') + "Names", term.Name) : null;
            if (names is not null)
            {
                _listNames[term.Name] = names;
            }
            var passed = Passed(term);
            _steps.Add(new TermListStep(variable, elements, names, term.Name, term.Receiver, passed.Select(p => p.Name).ToEquatableArray(),
                ByName: passed.Count < term.Parameters.Count, OnlyWhen: onlyWhen));
            string property = _names.Property(Naming.Pascal(term.Name));
            _terms.Add(new ResultMemberSpec(property, variable, _names.MetricKey(property), MemberRole.Term, term.Name) { List = new ListElements(elements, Unbind: false, names) });
            _externals[term.Name] = variable;
        }
        return variable;
    }

    /// <summary>The elements of a computed list, split from its 1-dim tensor for the result, named as the elements of the list term it comes from.</summary>
    private ListElements Unbound(Local list, BoundExpr value)
        => new(_names.Local(list.Name.TrimStart('@') + "Elements", list.Display), Unbind: true,
            Checker.ListOrigin(value) is TermInfo origin && _listNames.TryGetValue(origin.Name, out Local? names) ? names : null);

    /// <summary>Reads a Tensor parameter or member once; a parameter is its own local.</summary>
    private Local External(string name, ExternalKind kind, Receiver? via = null)
    {
        if (!_externals.TryGetValue(name, out Local? variable))
        {
            variable = kind == ExternalKind.Parameter
                ? new Local(Naming.Identifier(name), name)
                : _names.Local(Naming.Identifier(Naming.Camel(name)), name);
            if (kind == ExternalKind.Parameter && _declaration.Parameters.First(p => p.Name == name).MayBeNull)
            {
                _nullChecked.Add(name);
            }
            _steps.Add(new ExternalTensorStep(variable, kind, name, via));
            _externals[name] = variable;
        }
        return variable;
    }

    /// <summary>Gives a tensor expression a variable of its own, so it can be reused.</summary>
    public Local Materialize(TensorExpr expression, string hint)
    {
        if (expression.Op == TensorOp.Variable)
        {
            return expression.Variable!;
        }
        // The same expression is computed once, whichever function uses it.
        if (!_materialized.TryGetValue(expression, out TensorExpr? variable))
        {
            Local local = _names.Local(hint, $"({ExplanationWriter.Describe(expression)})");
            _steps.Add(new TensorStep(local, expression));
            Define(local, expression);
            variable = TensorExpr.Var(local);
            _materialized[expression] = variable;
        }
        return variable.Variable!;
    }
}
