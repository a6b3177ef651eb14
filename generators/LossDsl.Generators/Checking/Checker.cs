using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;

namespace LossDsl.Generators.Checking;

/// <summary>
/// Checks a parsed formula against its declarations and the function table: resolves every
/// name, matches every call, validates options, and reports each mistake once (a value that is
/// already wrong is a <see cref="BoundError"/>, about which nothing more is said). Produces the
/// bound tree; writes no C#.
/// </summary>
internal sealed partial class Checker
{
    private readonly LossDeclaration _declaration;
    private readonly FormulaSyntax _formula;
    private readonly string _formulaText;
    private readonly List<CheckError> _errors = new();
    private readonly List<BoundBinding> _bound = new();
    private readonly Dictionary<string, BoundExpr> _bindings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _bindingLines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BoundExpr> _externals = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedTerms = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedParameters = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _obsoleteIds = new(StringComparer.Ordinal);
    private bool _usesInvalidTerm;
    private bool _usesState;
    private int _currentLine;

    private Checker(LossDeclaration declaration, FormulaSyntax formula, string formulaText)
    {
        _declaration = declaration;
        _formula = formula;
        _formulaText = formulaText;
    }

    public static CheckedFormula Check(LossDeclaration declaration, FormulaSyntax formula, string formulaText)
        => new Checker(declaration, formula, formulaText).Check();

    private CheckedFormula Check()
    {
        for (int i = 0; i < _formula.Bindings.Count; i++)
        {
            string name = _formula.Bindings[i].Name;
            if (!_bindingLines.ContainsKey(name))
            {
                _bindingLines[name] = i;
            }
        }
        for (_currentLine = 0; _currentLine < _formula.Bindings.Count; _currentLine++)
        {
            CheckLine(_formula.Bindings[_currentLine], isLoss: _currentLine == _formula.Bindings.Count - 1);
        }
        CheckSwitchedTerms();
        return new CheckedFormula(_bound, _errors)
        {
            Failed = _errors.Any(e => e.Descriptor.DefaultSeverity == DiagnosticSeverity.Error) || _usesInvalidTerm,
            UsedTerms = _usedTerms,
            UsedParameters = _usedParameters,
            UsesState = _usesState,
            ObsoleteIds = _obsoleteIds,
        };
    }

    private void CheckLine(BindingSyntax binding, bool isLoss)
    {
        if (!CheckBindingName(binding))
        {
            return;
        }
        BoundExpr value = Bind(binding.Value);
        string line = _formulaText.Substring(binding.Span.Start, binding.Span.Length);
        switch (value.Kind)
        {
            case ValueKind.Tensor:
                _bindings[binding.Name] = new BoundBindingRef(binding.Name, value);
                break;
            case ValueKind.List when isLoss:
                Report(DiagnosticDescriptors.ListNotReduced, binding.Value.Span, TextOf(binding.Value.Span), "the loss (the formula's last binding) must be one tensor");
                _bindings[binding.Name] = BoundError.Instance;
                return;
            case ValueKind.List:
                _bindings[binding.Name] = new BoundBindingRef(binding.Name, value);
                break;
            case ValueKind.Number when isLoss:
                Report(DiagnosticDescriptors.LossNotTensor, binding.Span, binding.Name);
                _bindings[binding.Name] = BoundError.Instance;
                return;
            case ValueKind.Number:
                // A literal is folded where it is used; any other number is computed once, into a local.
                NumberExpr number = ((BoundNumber)value).Value;
                _bindings[binding.Name] = new BoundNumber(number.Constant is double constant
                    ? new NumberConstant(constant, binding.Name)
                    : new NumberRead(NumberSource.Local, binding.Name, IsDouble: true));
                break;
            default:
                _bindings[binding.Name] = BoundError.Instance;
                break;
        }
        _bound.Add(new BoundBinding(binding.Name, line, value, isLoss));
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
        if (existing is null)
        {
            return true;
        }
        Report(DiagnosticDescriptors.DuplicateBinding, binding.NameSpan, name, existing);
        if (!_bindings.ContainsKey(name))
        {
            _bindings[name] = BoundError.Instance;
        }
        return false;
    }

    public BoundExpr Bind(ExpressionSyntax syntax) => syntax switch
    {
        NumberSyntax number => new BoundNumber(new NumberConstant(number.Value)),
        NameSyntax name => RecordTermUse(name, Resolve(name.Name, name.Span)),
        NegateSyntax negate => Negate(Bind(negate.Operand)),
        BinarySyntax binary => BindBinary(binary),
        CallSyntax call => BindCall(call),
        _ => throw new InvalidOperationException($"The checker does not know {syntax.GetType().Name}."),
    };

    private BoundExpr RecordTermUse(NameSyntax name, BoundExpr value)
    {
        if (value is BoundTerm)
        {
            _termUses.Add((name.Name, name.Span, _switch));
        }
        return value;
    }

    private static BoundExpr Negate(BoundExpr operand) => operand switch
    {
        BoundNumber number => new BoundNumber(Numbers.Negate(number.Value)),
        BoundError => operand,
        _ => new BoundNegate(operand),
    };

    private BoundExpr BindBinary(BinarySyntax binary)
    {
        BoundExpr left = Bind(binary.Left);
        BoundExpr right = Bind(binary.Right);
        if (left is BoundError || right is BoundError)
        {
            // Numbers give a number; a list with numbers gives a list: what the stub result needs.
            ValueKind leftKind = BoundError.IntendedKind(left), rightKind = BoundError.IntendedKind(right);
            return BoundError.Of(leftKind == ValueKind.Number ? rightKind : rightKind == ValueKind.Number ? leftKind : ValueKind.Other);
        }
        if (left is BoundNumber l && right is BoundNumber r)
        {
            if (binary.Operator == '^')
            {
                ReportNonFiniteMath(MathFunction.Pow, new[] { l.Value, r.Value }, binary.Span);
                return new BoundNumber(Numbers.Math(MathFunction.Pow, l.Value, r.Value));
            }
            return new BoundNumber(Numbers.Combine(binary.Operator, l.Value, r.Value));
        }
        // A list with a number is elementwise; with a tensor or another list it is ambiguous.
        foreach (var (list, other, span) in new[] { (left, right, binary.Left.Span), (right, left, binary.Right.Span) })
        {
            if (list.Kind == ValueKind.List && other is not BoundNumber)
            {
                Report(DiagnosticDescriptors.ListNotReduced, span, TextOf(span),
                    $"'{binary.Operator}' takes a list only with a number (elementwise), and the other side is {(other.Kind == ValueKind.List ? "a list too" : "a tensor")}");
                return BoundError.Instance;
            }
        }
        return new BoundBinary(binary.Operator, left, right);
    }

    /// <summary>
    /// LD0116 where a math function's arguments are all literals and its value is NaN or infinite
    /// (Log(0), Sqrt(-1), 0 ^ -1): such a value is left to call time, and is never what was meant.
    /// </summary>
    public void ReportNonFiniteMath(MathFunction function, IReadOnlyList<NumberExpr> arguments, FormulaSpan span)
    {
        if (arguments.All(a => a.Constant is not null) && Numbers.Math(function, arguments.ToArray()) is NumberMath)
        {
            double value = Numbers.Evaluate(function, arguments.Select(a => a.Constant!.Value).ToArray());
            Report(DiagnosticDescriptors.NonFiniteMath, span, TextOf(span), double.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity");
        }
    }

    /// <summary>What a tensor value is, seen through aliases: <c>S = Soft</c> makes S the term Soft.</summary>
    public static BoundExpr Identity(BoundExpr value)
    {
        while (value is BoundBindingRef reference && reference.Value is BoundBindingRef or BoundTerm or BoundTensorParameter or BoundTensorMember)
        {
            value = reference.Value;
        }
        return value;
    }

    /// <summary>
    /// The list term a list value comes from: a list combines only with numbers, so each list is
    /// computed from exactly one list term. Null for a value that is not a list.
    /// </summary>
    public static TermInfo? ListOrigin(BoundExpr value)
    {
        while (value.Kind == ValueKind.List)
        {
            switch (value)
            {
                case BoundTerm term:
                    return term.Term;
                case BoundBindingRef reference:
                    value = reference.Value;
                    break;
                case BoundNegate negate:
                    value = negate.Operand;
                    break;
                case BoundBinary binary:
                    value = binary.Left.Kind == ValueKind.List ? binary.Left : binary.Right;
                    break;
                case BoundCall call:
                    value = call.Arguments[call.Function.TakesSwitch ? 1 : 0];
                    break;
                default:
                    throw new InvalidOperationException($"ListOrigin does not know {value.GetType().Name}.");
            }
        }
        return null;
    }

    /// <summary>Records that the formula keeps state; false (and the error) where the loss type cannot hold it.</summary>
    public bool UseState(string what, FormulaSpan span)
    {
        if (_declaration.IsStatic)
        {
            Report(DiagnosticDescriptors.StateInStaticLoss, span, _declaration.MethodName, what);
            return false;
        }
        if (_declaration.ValueTypeKind is string kind)
        {
            string why = kind switch
            {
                "record" => "a 'with' expression copies the reference to the state, so copies would share one set of statistics",
                "interface" => "an interface cannot hold the field that keeps the state",
                _ => "a struct is copied on assignment and by readonly access, so statistics would be lost in the copies",
            };
            Report(DiagnosticDescriptors.StateNeedsClass, span, _declaration.MethodName, what, _declaration.TypeName, (kind == "interface" ? "an " : "a ") + kind, why);
            return false;
        }
        _usesState = true;
        return true;
    }

    /// <summary>The formula's text at <paramref name="span"/>, white space folded.</summary>
    public string TextOf(FormulaSpan span)
        => string.Join(" ", _formulaText.Substring(span.Start, span.Length).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    public void Report(DiagnosticDescriptor descriptor, FormulaSpan span, params string[] arguments)
        => _errors.Add(new CheckError(descriptor, span, arguments));
}
