using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;

namespace LossDsl.Generators.Binding;

/// <summary>
/// Resolves the names of a parsed formula, checks it, and lowers it to a plan in evaluation
/// order: each term is called once at its first use, each magnitude, stop-gradient and scale is
/// computed once, numeric literal arithmetic is folded, and <c>a + s * b</c> shapes become fused
/// operations. Errors are collected, never thrown.
/// </summary>
internal sealed partial class FormulaBinder
{
    private const double DefaultEpsilon = 1e-8;

    private readonly LossDeclaration _declaration;
    private readonly FormulaSyntax _formula;
    private readonly string _formulaText;
    private readonly List<PlanStep> _steps = new();
    private readonly List<BindError> _errors = new();
    private readonly List<string> _explanation = new();
    private readonly NameAllocator _locals = new();
    // ILossResult.Loss is implemented explicitly, so only the result's methods are taken.
    private readonly HashSet<string> _properties = new(StringComparer.Ordinal) { "Metrics", "Dispose" };
    private readonly Dictionary<TensorExpr, TensorExpr> _materialized = new();

    private readonly Dictionary<string, Value> _bindings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _bindingLines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Value> _externals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _magnitudes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _detached = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorExpr> _scales = new(StringComparer.Ordinal);

    private readonly List<ResultMemberSpec> _terms = new();
    private readonly List<ResultMemberSpec> _boundTensors = new();
    private readonly List<ResultMemberSpec> _scaleMembers = new();
    private readonly HashSet<string> _usedTerms = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedParameters = new(StringComparer.Ordinal);
    private bool _usesInvalidTerm;
    private readonly string _scopeVariable;
    private readonly string _resultVariable;
    private int _currentLine;

    private FormulaBinder(LossDeclaration declaration, FormulaSyntax formula, string formulaText)
    {
        _declaration = declaration;
        _formula = formula;
        _formulaText = formulaText;

        // Locals must not shadow anything the generated method refers to by simple name.
        foreach (var parameter in declaration.Parameters)
        {
            _locals.Reserve(parameter.Name);
        }
        foreach (string name in declaration.Terms.Keys.Concat(declaration.Members.Keys).Concat(declaration.OtherMethodNames))
        {
            _locals.Reserve(name);
        }
        if (declaration.ResultTypeName is string resultType)
        {
            _properties.Add(resultType.TrimStart('@')); // a member may not be named like its type
        }
        _scopeVariable = _locals.Allocate("scope");
        _resultVariable = _locals.Allocate("result");
    }

    public static BoundLoss Bind(LossDeclaration declaration, FormulaSyntax formula, string formulaText)
        => new FormulaBinder(declaration, formula, formulaText).Bind();

    private BoundLoss Bind()
    {
        for (int i = 0; i < _formula.Bindings.Count; i++)
        {
            _bindingLines[_formula.Bindings[i].Name] = _bindingLines.TryGetValue(_formula.Bindings[i].Name, out int first) ? first : i;
        }

        string lossVariable = "";
        for (_currentLine = 0; _currentLine < _formula.Bindings.Count; _currentLine++)
        {
            BindingSyntax binding = _formula.Bindings[_currentLine];
            bool isLoss = _currentLine == _formula.Bindings.Count - 1;
            string? variable = BindLine(binding, isLoss);
            if (isLoss && variable is not null)
            {
                lossVariable = variable;
            }
        }

        var members = new List<ResultMemberSpec>();
        if (_errors.Count == 0)
        {
            // The loss first, then terms in call order, the other bindings, and the scales.
            members.AddRange(_boundTensors.Where(m => m.Variable == lossVariable));
            members.AddRange(_terms);
            members.AddRange(_boundTensors.Where(m => m.Variable != lossVariable));
            members.AddRange(_scaleMembers);
            if (_stateSites.Contains("step"))
            {
                _explanation.Add($"Linear and Cosine read {StateProperty}.Step, which the training loop advances.");
            }
            _explanation.Add(_scales.Count > 0 || _detached.Count > 0 || _stateSites.Any(s => !s.StartsWith("step", StringComparison.Ordinal) && !s.StartsWith("uncertainty", StringComparison.Ordinal))
                ? "sg(x) is x with its gradient stopped: no gradient flows through a scale. No step synchronises with the host."
                : "No step synchronises with the host.");
        }
        return new BoundLoss(_steps, lossVariable, _scopeVariable, _resultVariable, members, _explanation, _errors)
        {
            Failed = _errors.Count > 0 || _usesInvalidTerm,
            UsedTerms = _usedTerms,
            UsedParameters = _usedParameters,
            State = State(),
        };
    }

    /// <summary>Binds one line; returns the variable holding its value when it is a tensor.</summary>
    private string? BindLine(BindingSyntax binding, bool isLoss)
    {
        string line = _formulaText.Substring(binding.Span.Start, binding.Span.Length);
        if (!CheckBindingName(binding))
        {
            return null;
        }

        _steps.Add(new CommentStep(line));
        Value value = Lower(binding.Value);
        switch (value)
        {
            case TensorValue tensor:
                string variable = _locals.Allocate(Naming.Identifier(Naming.Camel(binding.Name)));
                // A bare name becomes its own handle, so the result never holds one tensor twice.
                TensorExpr expression = tensor.Expr.Op == TensorOp.Variable ? new TensorExpr(TensorOp.Alias, Left: tensor.Expr) : tensor.Expr;
                _steps.Add(new TensorStep(variable, expression));
                _bindings[binding.Name] = new TensorValue(TensorExpr.Var(variable, binding.Name));
                string property = ClaimProperty(Naming.Pascal(binding.Name));
                string written = DocComment.Text(string.Join(" ", line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
                _boundTensors.Add(new ResultMemberSpec(property, variable, MetricKey(property), isLoss ? $"The loss: <c>{written}</c>." : $"<c>{written}</c>."));
                _explanation.Add($"{binding.Name} = {Describe(expression)}{(isLoss ? "   [the loss]" : "")}");
                return variable;

            case NumberValue number:
                if (isLoss)
                {
                    Report(DiagnosticDescriptors.LossNotTensor, binding.Span, binding.Name);
                    return null;
                }
                if (number.Constant is not null)
                {
                    _bindings[binding.Name] = number with { Display = binding.Name }; // folded where used: no local
                }
                else
                {
                    string local = _locals.Allocate(Naming.Identifier(Naming.Camel(binding.Name)));
                    _steps.Add(new NumberStep(local, number.Code));
                    _bindings[binding.Name] = new NumberValue(local, binding.Name, null);
                }
                _explanation.Add($"{binding.Name} = {number.Display}   [a number]");
                return null;

            default:
                _bindings[binding.Name] = ErrorValue.Instance;
                return null;
        }
    }

    private bool CheckBindingName(BindingSyntax binding)
    {
        string name = binding.Name;
        string? existing =
            _bindings.ContainsKey(name) ? "bound on an earlier line" :
            _declaration.Terms.ContainsKey(name) ? "a [Term] method" :
            _declaration.Parameters.Any(p => p.Name == name) ? "a parameter of the [Loss] method" :
            _declaration.Members.ContainsKey(name) ? "a member of the type" :
            null;
        if (existing is not null)
        {
            Report(DiagnosticDescriptors.DuplicateBinding, binding.NameSpan, name, existing);
            if (!_bindings.ContainsKey(name))
            {
                _bindings[name] = ErrorValue.Instance;
            }
            return false;
        }
        return true;
    }

    private Value Lower(ExpressionSyntax syntax) => syntax switch
    {
        NumberSyntax number => NumberValue.Of(number.Value),
        NameSyntax name => Resolve(name.Name, name.Span),
        NegateSyntax negate => Negate(Lower(negate.Operand)),
        BinarySyntax binary => LowerBinary(binary),
        CallSyntax call => LowerCall(call),
        _ => ErrorValue.Instance,
    };

    private Value Negate(Value operand) => operand switch
    {
        NumberValue number => number.Negated(),
        TensorValue tensor => new TensorValue(new TensorExpr(TensorOp.Negate, Left: tensor.Expr)),
        _ => ErrorValue.Instance,
    };

    private Value LowerBinary(BinarySyntax binary)
    {
        Value left = Lower(binary.Left);
        Value right = Lower(binary.Right);
        if (left is ErrorValue || right is ErrorValue)
        {
            return ErrorValue.Instance;
        }
        if (left is NumberValue l && right is NumberValue r)
        {
            return NumberValue.Combine(binary.Operator, l, r);
        }
        return binary.Operator switch
        {
            '+' => new TensorValue(Add(left, right, subtract: false)),
            '-' => new TensorValue(Add(left, right, subtract: true)),
            '*' => new TensorValue(Multiply(left, right)),
            _ => new TensorValue(Divide(left, right)),
        };
    }

    /// <summary>Lowers <c>left ± right</c>, fusing a scaled or balanced operand into add/addcmul.</summary>
    private static TensorExpr Add(Value left, Value right, bool subtract)
    {
        if (left is NumberValue number)
        {
            TensorExpr tensor = ((TensorValue)right).Expr;
            return subtract
                ? new TensorExpr(TensorOp.NumberMinus, Left: tensor, Number: number.Code, NumberDisplay: number.Display)
                : new TensorExpr(TensorOp.AddNumber, Left: tensor, Number: number.Code, NumberDisplay: number.Display);
        }
        TensorExpr a = ((TensorValue)left).Expr;
        if (right is NumberValue n)
        {
            NumberValue addend = subtract ? n.Negated() : n;
            return new TensorExpr(TensorOp.AddNumber, Left: a, Number: addend.Code, NumberDisplay: addend.Display);
        }
        TensorExpr b = ((TensorValue)right).Expr;
        if (TryFuse(a, b, subtract) is TensorExpr fused)
        {
            return fused;
        }
        if (!subtract && TryFuse(b, a, subtract: false) is TensorExpr swapped)
        {
            return swapped;
        }
        return new TensorExpr(subtract ? TensorOp.Subtract : TensorOp.Add, a, b);
    }

    /// <summary><c>a ± s·x·scale</c> → addcmul, <c>a ± s·x</c> → add with alpha; null when neither applies.</summary>
    private static TensorExpr? TryFuse(TensorExpr a, TensorExpr b, bool subtract)
    {
        NumberValue? factor = null;
        TensorExpr inner = b;
        if (b.Op == TensorOp.MulNumber)
        {
            factor = NumberValue.From(b.Number!, b.NumberDisplay!);
            inner = b.Left!;
        }
        if (inner.Op == TensorOp.Product)
        {
            NumberValue value = factor ?? NumberValue.Of(1);
            value = subtract ? value.Negated() : value;
            return new TensorExpr(TensorOp.AddProduct, a, inner.Left, inner.Code, inner.Display, value.Code, value.Display);
        }
        if (factor is not null)
        {
            NumberValue alpha = subtract ? factor.Negated() : factor;
            return new TensorExpr(TensorOp.AddScaled, a, inner, Number: alpha.Code, NumberDisplay: alpha.Display);
        }
        return null;
    }

    private static TensorExpr Multiply(Value left, Value right)
    {
        if (left is NumberValue number)
        {
            (left, right) = (right, number);
        }
        TensorExpr a = ((TensorValue)left).Expr;
        if (right is NumberValue n)
        {
            if (n.Constant == 1)
            {
                return a;
            }
            // s1·(s2·x) → (s1·s2)·x, folded when both are literals.
            if (a.Op == TensorOp.MulNumber)
            {
                NumberValue inner = NumberValue.From(a.Number!, a.NumberDisplay!);
                NumberValue combined = NumberValue.Combine('*', inner, n);
                return new TensorExpr(TensorOp.MulNumber, Left: a.Left, Number: combined.Code, NumberDisplay: combined.Display);
            }
            return new TensorExpr(TensorOp.MulNumber, Left: a, Number: n.Code, NumberDisplay: n.Display);
        }
        return new TensorExpr(TensorOp.Multiply, a, ((TensorValue)right).Expr);
    }

    private static TensorExpr Divide(Value left, Value right)
    {
        if (left is NumberValue number)
        {
            return new TensorExpr(TensorOp.NumberDiv, Left: ((TensorValue)right).Expr, Number: number.Code, NumberDisplay: number.Display);
        }
        TensorExpr a = ((TensorValue)left).Expr;
        return right is NumberValue n
            ? new TensorExpr(TensorOp.DivNumber, Left: a, Number: n.Code, NumberDisplay: n.Display)
            : new TensorExpr(TensorOp.Divide, a, ((TensorValue)right).Expr);
    }

    /// <summary>Gives a tensor expression a variable of its own, so it can be reused.</summary>
    private TensorExpr Materialize(TensorExpr expression, string hint)
    {
        if (expression.Op == TensorOp.Variable)
        {
            return expression;
        }
        // The same expression is computed once, whichever Balance or Detach uses it.
        if (!_materialized.TryGetValue(expression, out TensorExpr? variable))
        {
            string local = _locals.Allocate(hint);
            _steps.Add(new TensorStep(local, expression));
            variable = TensorExpr.Var(local, $"({Describe(expression)})");
            _materialized[expression] = variable;
        }
        return variable;
    }

    /// <summary>The variable holding |sg(x)|; a new one is added to <paramref name="added"/> to be computed with the scale.</summary>
    private string Magnitude(TensorExpr variable, List<Magnitude> added)
    {
        if (!_magnitudes.TryGetValue(variable.Code!, out string? magnitude))
        {
            magnitude = _locals.Allocate(variable.Code!.TrimStart('@') + "Magnitude");
            added.Add(new Magnitude(magnitude, variable.Code!));
            _magnitudes[variable.Code!] = magnitude;
        }
        return magnitude;
    }

    private string ClaimProperty(string preferred)
    {
        string name = preferred;
        for (int n = 2; !_properties.Add(name); n++)
        {
            name = preferred + n;
        }
        return name;
    }

    /// <summary>prefix + snake_case, made unique: Kd and KD are both "kd" before it.</summary>
    private string MetricKey(string property)
    {
        string key = (_declaration.MetricsPrefix ?? "") + Naming.Snake(property);
        string unique = key;
        for (int n = 2; !_metricKeys.Add(unique); n++)
        {
            unique = key + n;
        }
        return unique;
    }

    private readonly HashSet<string> _metricKeys = new(StringComparer.Ordinal);

    private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, FormulaSpan span, params string[] arguments)
        => _errors.Add(new BindError(descriptor, span, arguments));


    internal static string FormatNumber(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.IndexOfAny(new[] { '.', 'E', 'e' }) >= 0 ? text : text + ".0";
    }

    // Values of lowered expressions.
    private abstract record Value;

    private sealed record ErrorValue : Value
    {
        public static readonly ErrorValue Instance = new();
    }

    private sealed record TensorValue(TensorExpr Expr) : Value;

    /// <summary>A C# expression of type double; <see cref="Constant"/> when it is a literal, for folding.</summary>
    private sealed record NumberValue(string Code, string Display, double? Constant) : Value
    {
        public static NumberValue Of(double value)
        {
            string text = FormatNumber(value);
            string display = value.ToString("R", CultureInfo.InvariantCulture);
            return new NumberValue(value < 0 ? $"({text})" : text, display, value);
        }

        /// <summary>Recovers a number from its C# text, knowing it again as a constant when it is a literal.</summary>
        public static NumberValue From(string code, string display)
            => double.TryParse(code.Trim('(', ')'), NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                ? Of(value) with { Display = display }
                : new NumberValue(code, display, null);

        public NumberValue Negated()
            => Constant is double value ? Of(-value) : new NumberValue($"(-{Code})", $"-{Display}", null);

        public static NumberValue Combine(char op, NumberValue left, NumberValue right)
        {
            if (left.Constant is double a && right.Constant is double b)
            {
                double folded = op switch { '+' => a + b, '-' => a - b, '*' => a * b, _ => a / b };
                if (!double.IsNaN(folded) && !double.IsInfinity(folded))
                {
                    return Of(folded);
                }
            }
            return new NumberValue($"({left.Code} {op} {right.Code})", $"({left.Display} {op} {right.Display})", null);
        }
    }
}
