using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Emit;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

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
    private readonly Dictionary<string, HashSet<string>> _numberBindingReaders = new(StringComparer.Ordinal);
    private string _currentBinding = "";

    private readonly List<ResultMemberSpec> _terms = new();
    private readonly List<ResultMemberSpec> _boundTensors = new();
    private readonly List<ResultMemberSpec> _scaleMembers = new();

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
        // A number binding nothing computed reads is explained but not computed: its local would be
        // unused (CS0219). Bindings read only earlier ones, so the last are decided first.
        var computed = new HashSet<string>(StringComparer.Ordinal);
        for (int i = _steps.Count - 1; i >= 0; i--)
        {
            if (_steps[i] is NumberStep { Variable: not null } number)
            {
                bool read = _numberBindingReaders.TryGetValue(number.Binding, out HashSet<string>? readers)
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
        if (SkippedUpdates(lossVariable) is ResultMemberSpec skipped)
        {
            members.Add(skipped);
        }
        var nullChecked = _declaration.Parameters.Where(p => _nullChecked.Contains(p.Name)).Select(p => p.Name).ToEquatableArray();
        return new PlanBody(members.ToEquatableArray(), _steps.ToEquatableArray(), lossVariable, scope, result, checkFinite, State(), nullChecked);
    }

    /// <summary>Lowers one line; returns the variable holding its value when it is a tensor.</summary>
    private string? LowerBinding(BoundBinding binding)
    {
        _currentBinding = binding.Name;
        _steps.Add(new CommentStep(binding.Line));
        LoweredValue value = Lower(binding.Value);
        switch (value)
        {
            case LoweredTensor tensor:
                Local variable = _names.Local(Naming.Identifier(Naming.Camel(binding.Name)), binding.Name);
                // A bare name becomes its own handle, so the result never holds one tensor twice.
                TensorExpr expression = tensor.Expr.Op == TensorOp.Variable ? new TensorExpr(TensorOp.Alias, Left: tensor.Expr) : tensor.Expr;
                _steps.Add(new TensorStep(variable, expression, binding.Name, binding.IsLoss));
                Define(variable, expression);
                _bindings[binding.Name] = variable;
                string property = _names.Property(Naming.Pascal(binding.Name));
                string written = string.Join(" ", binding.Line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
                _boundTensors.Add(new ResultMemberSpec(property, variable, _names.MetricKey(property), binding.IsLoss ? MemberRole.Loss : MemberRole.Binding, written)
                {
                    List = binding.Value.Kind == ValueKind.List ? Unbound(variable, binding.Value) : null,
                });
                return variable.Name;

            case LoweredNumber number:
                Local? local = number.Value.Constant is null ? _names.Local(Naming.Identifier(Naming.Camel(binding.Name)), binding.Name) : null;
                if (local is not null)
                {
                    _numberBindings[binding.Name] = local;
                }
                _steps.Add(new NumberStep(binding.Name, local, number.Value));
                return null;

            default:
                return null;
        }
    }

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
        return new LoweredNumber(Numbers.Rewrite(value, ResolveNumberBinding));
    }

    private NumberExpr ResolveNumberBinding(NumberRead read)
    {
        if (read.Source != NumberSource.Local)
        {
            return read;
        }
        if (!_numberBindingReaders.TryGetValue(read.Name, out HashSet<string>? readers))
        {
            _numberBindingReaders[read.Name] = readers = new HashSet<string>(StringComparer.Ordinal);
        }
        readers.Add(_currentBinding);
        return read with { Local = _numberBindings[read.Name].Name };
    }

    /// <summary>Calls a term at its first use.</summary>
    private Local Term(TermInfo term)
    {
        if (!_externals.TryGetValue(term.Name, out Local? variable))
        {
            variable = _names.Local(Naming.Identifier(Naming.Camel(term.Name)), term.Name);
            foreach (ParameterInfo needed in term.Parameters.Where(p => !p.AcceptsNull))
            {
                if (_declaration.Parameters.First(p => p.Name == needed.Name).MayBeNull)
                {
                    _nullChecked.Add(needed.Name);
                }
            }
            _steps.Add(new TermStep(variable, term.Name, term.Receiver, term.Parameters.Select(p => p.Name).ToEquatableArray()));
            string property = _names.Property(Naming.Pascal(term.Name));
            _terms.Add(new ResultMemberSpec(property, variable, _names.MetricKey(property), MemberRole.Term, term.Name));
            _externals[term.Name] = variable;
        }
        return variable;
    }

    /// <summary>Calls a list term at its first use; its value is the stack of its elements.</summary>
    private Local TermList(TermInfo term)
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
            foreach (ParameterInfo needed in term.Parameters.Where(p => !p.AcceptsNull))
            {
                if (_declaration.Parameters.First(p => p.Name == needed.Name).MayBeNull)
                {
                    _nullChecked.Add(needed.Name);
                }
            }
            _steps.Add(new TermListStep(variable, elements, names, term.Name, term.Receiver, term.Parameters.Select(p => p.Name).ToEquatableArray()));
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
