using System;
using System.Collections.Generic;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

/// <summary>
/// The alternative to generation: the same formula string parsed at run time (once) and evaluated
/// on every call by walking its tree with a dictionary of values and of term delegates, the way
/// config-driven loss composition works (torchdistill's YAML). It keeps the good habits and the
/// semantics of the generated code (device-side guards, detached scales clamped into the dtype's
/// normal range, rounding residue of a cancelling value counted as 0, a dispose scope), so what it
/// costs extra is the interpretation itself: lookups, delegates, no fusion, no reuse across the tree.
/// </summary>
public sealed class InterpretedLoss
{
    private const double Epsilon = 1e-8;
    private readonly List<(string Name, Node Value)> _bindings;
    private readonly HashSet<string> _bounded;

    public InterpretedLoss(string formula)
    {
        _bindings = new Parser(formula).Bindings();
        _bounded = BoundedBindings(_bindings);
    }

    /// <summary>Evaluates every binding; the returned values (all of them) leave the dispose scope.</summary>
    public Dictionary<string, Tensor> Evaluate(IReadOnlyDictionary<string, Func<Tensor>> terms, IReadOnlyDictionary<string, double> numbers)
    {
        using var scope = NewDisposeScope();
        var evaluation = new Evaluation(new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>(), terms, numbers);
        foreach (var (name, node) in _bindings)
        {
            var (value, bound) = Evaluate(node, _bounded.Contains(name), evaluation);
            evaluation.Values[name] = value;
            if (bound is not null)
            {
                evaluation.Bounds[name] = bound;
            }
        }
        foreach (Tensor value in evaluation.Values.Values)
        {
            scope.MoveToOuter(value);
        }
        return evaluation.Values;
    }

    /// <summary>
    /// The bindings whose rounding bound a Balance needs: those read inside a Balance argument,
    /// and those read by a binding that needs its bound. Bindings read only earlier ones, so one
    /// pass from the last binding to the first finds them all.
    /// </summary>
    private static HashSet<string> BoundedBindings(List<(string Name, Node Value)> bindings)
    {
        var bounded = new HashSet<string>(StringComparer.Ordinal);
        for (int i = bindings.Count - 1; i >= 0; i--)
        {
            var (name, node) = bindings[i];
            Collect(node, bounded.Contains(name), bounded);
        }
        return bounded;
    }

    private static void Collect(Node node, bool bounded, HashSet<string> names)
    {
        switch (node)
        {
            case NameNode name when bounded:
                names.Add(name.Name);
                break;
            case BinaryNode binary:
                Collect(binary.Left, bounded, names);
                Collect(binary.Right, bounded, names);
                break;
            case BalanceNode balance:
                Collect(balance.Value, true, names);
                Collect(balance.Target, true, names);
                break;
        }
    }

    /// <summary>
    /// A node's value and, when <paramref name="bounded"/> and the value can cancel, its rounding
    /// bound: the same arithmetic on magnitudes, with − as +. A term is its own bound (null).
    /// </summary>
    private static (Tensor Value, Tensor? Bound) Evaluate(Node node, bool bounded, Evaluation e)
    {
        switch (node)
        {
            case NameNode name when e.Values.TryGetValue(name.Name, out Tensor? value):
                return (value, e.Bounds.GetValueOrDefault(name.Name));
            case NameNode name when e.Terms.TryGetValue(name.Name, out Func<Tensor>? term):
                e.Values[name.Name] = term(); // a term is evaluated once and remembered
                return (e.Values[name.Name], null);
            case BinaryNode binary when IsNumber(binary.Left, e.Numbers):
            {
                double number = Number(binary.Left, e.Numbers);
                var right = Evaluate(binary.Right, bounded, e);
                Tensor value = Apply(binary.Operator, number, right.Value);
                if (!bounded)
                {
                    return (value, null);
                }
                using (no_grad())
                {
                    return (value, Bound(binary.Operator, Math.Abs(number), right));
                }
            }
            case BinaryNode binary:
            {
                var left = Evaluate(binary.Left, bounded, e);
                var right = Evaluate(binary.Right, bounded, e);
                Tensor value = Apply(binary.Operator, left.Value, right.Value);
                if (!bounded)
                {
                    return (value, null);
                }
                using (no_grad())
                {
                    return (value, Bound(binary.Operator, left, right));
                }
            }
            case BalanceNode balance:
            {
                var x = Evaluate(balance.Value, true, e);
                var y = Evaluate(balance.Target, true, e);
                Tensor scale;
                Tensor? bound = null;
                using (no_grad())
                {
                    Tensor a = Significant(x), b = Significant(y);
                    var range = finfo(a.dtype);
                    scale = b.div(a).clamp_(range.tiny, range.max).masked_fill_(a.minimum(b).le(Epsilon), 1.0);
                    if (bounded && x.Bound is not null)
                    {
                        bound = x.Bound.mul(scale); // a scale is at least 0
                    }
                }
                e.Values[$"{Describe(balance.Value)}_scale"] = scale;
                return (x.Value.mul(scale), bound);
            }
            default:
                throw new InvalidOperationException($"cannot evaluate {node} as a tensor");
        }
    }

    /// <summary>|x|, or 0 where x is rounding residue of its bound.</summary>
    private static Tensor Significant((Tensor Value, Tensor? Bound) x)
    {
        Tensor magnitude = x.Value.abs();
        if (x.Bound is null)
        {
            return magnitude;
        }
        double tolerance = magnitude.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? 8 * finfo(magnitude.dtype).eps : 1e-5;
        return magnitude.masked_fill_(magnitude.le(x.Bound.mul(tolerance)), 0.0);
    }

    private static Tensor Magnitude((Tensor Value, Tensor? Bound) x) => x.Bound ?? x.Value.abs();

    private static Tensor? Bound(char op, (Tensor Value, Tensor? Bound) left, (Tensor Value, Tensor? Bound) right) => op switch
    {
        '+' or '-' => Magnitude(left).add(Magnitude(right)),
        '*' => left.Bound is null && right.Bound is null ? null : Magnitude(left).mul(Magnitude(right)),
        // A quotient carries the numerator's bound over the divisor, and |a|·bound(b)/b² when the divisor cancels.
        _ when right.Bound is not null => Magnitude(left).div(right.Value.abs()).add(left.Value.abs().mul(right.Bound).div(right.Value.abs().square())),
        _ => left.Bound?.div(right.Value.abs()),
    };

    private static Tensor? Bound(char op, double number, (Tensor Value, Tensor? Bound) right) => op switch
    {
        '+' or '-' => Magnitude(right).add(number),
        '*' => right.Bound?.mul(number),
        _ => right.Bound?.div(right.Value.abs().square()).mul(number),
    };

    private sealed record Evaluation(Dictionary<string, Tensor> Values, Dictionary<string, Tensor> Bounds, IReadOnlyDictionary<string, Func<Tensor>> Terms, IReadOnlyDictionary<string, double> Numbers);

    private static bool IsNumber(Node node, IReadOnlyDictionary<string, double> numbers)
        => node is NumberNode || node is NameNode name && numbers.ContainsKey(name.Name);

    private static double Number(Node node, IReadOnlyDictionary<string, double> numbers) => node switch
    {
        NumberNode number => number.Value,
        NameNode name => numbers[name.Name],
        _ => throw new InvalidOperationException($"cannot evaluate {node} as a number"),
    };

    private static Tensor Apply(char op, Tensor left, Tensor right) => op switch
    {
        '+' => left.add(right),
        '-' => left.sub(right),
        '*' => left.mul(right),
        _ => left.div(right),
    };

    private static Tensor Apply(char op, double left, Tensor right) => op switch
    {
        '+' => right.add(left),
        '-' => right.neg().add(left),
        '*' => right.mul(left),
        _ => right.reciprocal().mul(left),
    };

    private static string Describe(Node node) => node is NameNode name ? name.Name.ToLowerInvariant() : "balance";

    private abstract record Node;
    private sealed record NameNode(string Name) : Node;
    private sealed record NumberNode(double Value) : Node;
    private sealed record BinaryNode(char Operator, Node Left, Node Right) : Node;
    private sealed record BalanceNode(Node Value, Node Target) : Node;

    /// <summary>A recursive-descent parser for bindings of + - * /, names, numbers and Balance(x, to: y).</summary>
    private sealed class Parser(string text)
    {
        private int _at;

        public List<(string, Node)> Bindings()
        {
            var bindings = new List<(string, Node)>();
            foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parser = new Parser(line);
                string name = parser.Name();
                parser.Expect('=');
                bindings.Add((name, parser.Sum()));
            }
            return bindings;
        }

        private Node Sum()
        {
            Node left = Product();
            while (Peek() is '+' or '-')
            {
                char op = text[_at++];
                left = new BinaryNode(op, left, Product());
            }
            return left;
        }

        private Node Product()
        {
            Node left = Primary();
            while (Peek() is '*' or '/')
            {
                char op = text[_at++];
                left = new BinaryNode(op, left, Primary());
            }
            return left;
        }

        private Node Primary()
        {
            char next = Peek();
            if (next == '(')
            {
                _at++;
                Node inner = Sum();
                Expect(')');
                return inner;
            }
            if (char.IsDigit(next))
            {
                int start = _at;
                while (_at < text.Length && (char.IsDigit(text[_at]) || text[_at] == '.'))
                {
                    _at++;
                }
                return new NumberNode(double.Parse(text[start.._at], CultureInfo.InvariantCulture));
            }
            string name = Name();
            if (name != "Balance")
            {
                return new NameNode(name);
            }
            Expect('(');
            Node value = Sum();
            Expect(',');
            if (Name() != "to")
            {
                throw new FormatException("Balance needs to:");
            }
            Expect(':');
            Node target = Sum();
            Expect(')');
            return new BalanceNode(value, target);
        }

        private string Name()
        {
            Peek();
            int start = _at;
            while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] == '_'))
            {
                _at++;
            }
            return start < _at ? text[start.._at] : throw new FormatException($"expected a name at {start} in '{text}'");
        }

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw new FormatException($"expected '{c}' at {_at} in '{text}'");
            }
            _at++;
        }

        private char Peek()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }
            return _at < text.Length ? text[_at] : '\0';
        }
    }
}
