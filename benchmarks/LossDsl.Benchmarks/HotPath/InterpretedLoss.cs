using System;
using System.Collections.Generic;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

/// <summary>
/// The alternative to generation: the same formula string parsed at run time (once) and evaluated
/// on every call by walking its tree with a dictionary of values and of term delegates, the way
/// config-driven loss composition works (torchdistill's YAML). It keeps the good habits of the
/// generated code (device-side guards, detached scales, a dispose scope), so what it costs extra
/// is the interpretation itself: lookups, delegates, no fusion, no reuse across the tree.
/// </summary>
public sealed class InterpretedLoss
{
    private const double Epsilon = 1e-8;
    private readonly List<(string Name, Node Value)> _bindings;

    public InterpretedLoss(string formula) => _bindings = new Parser(formula).Bindings();

    /// <summary>Evaluates every binding; the returned values (all of them) leave the dispose scope.</summary>
    public Dictionary<string, Tensor> Evaluate(IReadOnlyDictionary<string, Func<Tensor>> terms, IReadOnlyDictionary<string, double> numbers)
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor>();
        foreach (var (name, node) in _bindings)
        {
            values[name] = Tensor(node, values, terms, numbers);
        }
        foreach (Tensor value in values.Values)
        {
            scope.MoveToOuter(value);
        }
        return values;
    }

    private static Tensor Tensor(Node node, Dictionary<string, Tensor> values, IReadOnlyDictionary<string, Func<Tensor>> terms, IReadOnlyDictionary<string, double> numbers)
    {
        switch (node)
        {
            case NameNode name when values.TryGetValue(name.Name, out Tensor? value):
                return value;
            case NameNode name when terms.TryGetValue(name.Name, out Func<Tensor>? term):
                values[name.Name] = term(); // a term is evaluated once and remembered
                return values[name.Name];
            case BinaryNode binary when IsNumber(binary.Left, numbers):
                return Apply(binary.Operator, Number(binary.Left, numbers), Tensor(binary.Right, values, terms, numbers));
            case BinaryNode binary:
                return Apply(binary.Operator, Tensor(binary.Left, values, terms, numbers), Tensor(binary.Right, values, terms, numbers));
            case BalanceNode balance:
                Tensor x = Tensor(balance.Value, values, terms, numbers);
                Tensor y = Tensor(balance.Target, values, terms, numbers);
                Tensor scale;
                using (no_grad())
                {
                    Tensor a = x.abs(), b = y.abs();
                    scale = b.div(a).masked_fill_(a.minimum(b).le(Epsilon), 1.0);
                }
                values[$"{Describe(balance.Value)}_scale"] = scale;
                return x.mul(scale);
            default:
                throw new InvalidOperationException($"cannot evaluate {node} as a tensor");
        }
    }

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
