using System;
using System.Collections.Generic;

namespace LossDsl.Generators.Formula;

/// <summary>
/// Recursive-descent parser for the formula language. A syntax error in one
/// binding is reported and the parser resumes at the end of that binding, so every broken line
/// is reported once and nothing after it is lost. A line break ends a binding except inside
/// parentheses; a line that starts with <c>Name =</c> always starts a new one, so an unclosed
/// <c>(</c> costs one error at the <c>(</c>, not the rest of the formula.
/// </summary>
internal sealed class FormulaParser
{
    private const string WrapInParentheses = "to continue an expression on the next line, wrap it in parentheses (newlines inside parentheses are ignored)";

    private readonly List<Token> _tokens;
    private readonly List<FormulaError> _errors = new();
    private const int MaxDepth = 64;
    private const int MaxOperations = 256; // a left-leaning chain is as deep as it is long
    private int _operations;
    private int _position;
    private int _depth;
    private int _parens; // parentheses open around the current token; line breaks are skipped inside them

    private FormulaParser(string text) => _tokens = FormulaLexer.Tokenize(text);

    public static (FormulaSyntax Formula, IReadOnlyList<FormulaError> Errors) Parse(string text)
    {
        var parser = new FormulaParser(text);
        var bindings = parser.ParseBindings();
        return (new FormulaSyntax(bindings), parser._errors);
    }

    private Token Current => _tokens[_position];

    private List<BindingSyntax> ParseBindings()
    {
        var bindings = new List<BindingSyntax>();
        while (Current.Kind != TokenKind.End)
        {
            if (Current.Kind is TokenKind.Semicolon or TokenKind.Newline)
            {
                _position++;
                continue;
            }
            int start = _position;
            try
            {
                _depth = 0;
                _operations = 0;
                _parens = 0;
                bindings.Add(ParseBinding());
            }
            catch (SyntaxErrorException error)
            {
                _errors.Add(error.Error);
                _position = SkipBrokenBinding(start, TokenAt(error.Error.Span, start), error.Continuation);
            }
        }
        return bindings;
    }

    private BindingSyntax ParseBinding()
    {
        Token name = Current;
        if (name.Kind != TokenKind.Name)
        {
            if (name.Kind is TokenKind.Plus or TokenKind.Minus or TokenKind.Star or TokenKind.Slash or TokenKind.Caret && ContinuesALine(_position))
            {
                throw Error(name, $"a line cannot start with '{name.Text}': {WrapInParentheses}", continuation: true);
            }
            throw Error(name, $"expected a binding such as 'Total = Hard + Soft', but found {Describe(name)}");
        }
        Advance();
        if (Current.Kind != TokenKind.Equals)
        {
            // A name followed by a name is a missing '='; followed by anything else, the line is
            // probably an expression without a binding around it.
            string hint = Current.Kind is TokenKind.Name or TokenKind.Number ? "" : ": every line is a binding 'Name = expression', such as 'Total = Hard + Soft'";
            throw Error(Current, $"expected '=' after '{name.Text}', but found {Describe(Current)}{hint}");
        }
        Advance();
        ExpressionSyntax value = ParseExpression();
        if (!EndsBinding(Current.Kind))
        {
            throw Error(Current, Current.Kind == TokenKind.CloseParen
                ? "')' has no matching '('"
                : $"expected an operator or the end of the line, but found {Describe(Current)}");
        }
        return new BindingSyntax(name.Text, name.Span, value, FormulaSpan.FromBounds(name.Span.Start, value.Span.End));
    }

    private ExpressionSyntax ParseExpression()
    {
        // Nesting is bounded so that no input can exhaust the compiler's stack.
        if (++_depth > MaxDepth)
        {
            throw Error(Current, $"the expression is nested more than {MaxDepth} levels deep");
        }
        ExpressionSyntax left = ParseProduct();
        while (Current.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            char op = Current.Kind == TokenKind.Plus ? '+' : '-';
            CountOperation();
            Advance();
            ExpressionSyntax right = ParseProduct();
            left = new BinarySyntax(op, left, right, FormulaSpan.FromBounds(left.Span.Start, right.Span.End));
        }
        _depth--;
        return left;
    }

    private ExpressionSyntax ParseProduct()
    {
        ExpressionSyntax left = ParseUnary();
        while (Current.Kind is TokenKind.Star or TokenKind.Slash)
        {
            char op = Current.Kind == TokenKind.Star ? '*' : '/';
            CountOperation();
            Advance();
            ExpressionSyntax right = ParseUnary();
            left = new BinarySyntax(op, left, right, FormulaSpan.FromBounds(left.Span.Start, right.Span.End));
        }
        return left;
    }

    private void CountOperation()
    {
        if (++_operations > MaxOperations)
        {
            throw Error(Current, $"the binding has more than {MaxOperations} operations; split it into several bindings");
        }
    }

    private ExpressionSyntax ParseUnary()
    {
        if (Current.Kind == TokenKind.Minus)
        {
            Token minus = Current;
            Advance();
            if (++_depth > MaxDepth)
            {
                throw Error(minus, $"the expression is nested more than {MaxDepth} levels deep");
            }
            ExpressionSyntax operand = ParseUnary();
            _depth--;
            return new NegateSyntax(operand, FormulaSpan.FromBounds(minus.Span.Start, operand.Span.End));
        }
        return ParsePower();
    }

    /// <summary>
    /// <c>a ^ b</c>: binds tighter than unary minus and is right-associative, so <c>-x ^ 2</c> is
    /// <c>-(x ^ 2)</c> and <c>a ^ b ^ c</c> is <c>a ^ (b ^ c)</c>; the exponent may be negated (<c>x ^ -1</c>).
    /// </summary>
    private ExpressionSyntax ParsePower()
    {
        ExpressionSyntax left = ParsePrimary();
        if (Current.Kind != TokenKind.Caret)
        {
            return left;
        }
        Token caret = Current;
        CountOperation();
        Advance();
        if (++_depth > MaxDepth)
        {
            throw Error(caret, $"the expression is nested more than {MaxDepth} levels deep");
        }
        ExpressionSyntax right = ParseUnary();
        _depth--;
        return new BinarySyntax('^', left, right, FormulaSpan.FromBounds(left.Span.Start, right.Span.End));
    }

    private ExpressionSyntax ParsePrimary()
    {
        Token token = Current;
        switch (token.Kind)
        {
            case TokenKind.Number:
                Advance();
                return new NumberSyntax(token.Number, token.Span);

            case TokenKind.Name:
                Advance();
                return Current.Kind == TokenKind.OpenParen ? ParseCall(token) : new NameSyntax(token.Text, token.Span);

            case TokenKind.OpenParen:
                int open = _position;
                Open();
                ExpressionSyntax inner = ParseExpression();
                Expect(TokenKind.CloseParen, open, "'(' is not closed: expected ')'");
                return inner;

            case TokenKind.Semicolon or TokenKind.Newline or TokenKind.End when _position > 0:
                // Point at the operator or '(' that is left without an operand, not at the line break.
                Token previous = Previous();
                if (token.Kind == TokenKind.Newline && !NextLineStartsBinding(_position))
                {
                    throw Error(previous, $"expected a number, a name or '(' after '{previous.Text}' on the same line: {WrapInParentheses}", continuation: true);
                }
                throw Error(previous, $"expected a number, a name or '(' after '{previous.Text}'");

            default:
                throw Error(token, $"expected a number, a name or '(', but found {Describe(token)}");
        }
    }

    private CallSyntax ParseCall(Token name)
    {
        int open = _position;
        Open();
        var arguments = new List<ArgumentSyntax>();
        bool named = false;
        if (Current.Kind != TokenKind.CloseParen)
        {
            while (true)
            {
                if (Current.Kind == TokenKind.Name && Peek().Kind == TokenKind.Colon)
                {
                    Token argumentName = Current;
                    Advance();
                    Advance();
                    arguments.Add(new ArgumentSyntax(argumentName.Text, argumentName.Span, ParseExpression()));
                    named = true;
                }
                else if (Current.Kind == TokenKind.Name && Peek().Kind == TokenKind.Equals && !(_tokens[_position - 1].Kind == TokenKind.Newline && StartsBinding(_position)))
                {
                    // Python's keyword arguments. A line that starts a binding instead means
                    // that this call is not closed, which Expect reports at its '('.
                    throw Error(Peek(), $"a named argument is written '{Current.Text}: value', with ':' instead of '='");
                }
                else
                {
                    ExpressionSyntax value = ParseExpression();
                    if (named)
                    {
                        throw Error(value.Span, "a positional argument cannot follow a named one");
                    }
                    arguments.Add(new ArgumentSyntax(null, default, value));
                }
                if (Current.Kind != TokenKind.Comma)
                {
                    break;
                }
                Token comma = Current;
                Advance();
                if (Current.Kind == TokenKind.CloseParen)
                {
                    throw Error(comma, "expected an argument after ',': remove the trailing ','");
                }
            }
        }
        Token close = Expect(TokenKind.CloseParen, open, $"the call to '{name.Text}' is not closed: expected ')' or ','");
        return new CallSyntax(name.Text, name.Span, arguments, FormulaSpan.FromBounds(name.Span.Start, close.Span.End));
    }

    private Token Expect(TokenKind kind, int opener, string message)
    {
        Token token = Current;
        if (token.Kind != kind)
        {
            // Point at what is wrong, unless the binding ended first: then point at the opener
            // that is left open. A binding ends at the end of the line, the formula, or at a line
            // that starts a new binding, which the open parenthesis would otherwise swallow.
            throw EndsBinding(token.Kind) || StartsBindingBetween(opener, _position)
                ? Error(_tokens[opener], message)
                : Error(token, $"{message}, but found {Describe(token)}");
        }
        _parens--;
        Advance();
        return token;
    }

    /// <summary>Steps onto the next token, over line breaks while inside parentheses, where they are only layout.</summary>
    private void Advance()
    {
        _position++;
        while (_parens > 0 && _tokens[_position].Kind == TokenKind.Newline)
        {
            _position++;
        }
    }

    /// <summary>Steps over a <c>(</c>: from here line breaks do not end the binding.</summary>
    private void Open()
    {
        _parens++;
        Advance();
    }

    /// <summary>The token after the current one, as <see cref="Advance"/> would find it.</summary>
    private Token Peek()
    {
        int k = _position + 1;
        while (_parens > 0 && _tokens[k].Kind == TokenKind.Newline)
        {
            k++;
        }
        return _tokens[k];
    }

    /// <summary>The last token before the current one that is not a line break.</summary>
    private Token Previous()
    {
        int k = _position - 1;
        while (k > 0 && _tokens[k].Kind == TokenKind.Newline)
        {
            k--;
        }
        return _tokens[k];
    }

    private static bool EndsBinding(TokenKind kind) => kind is TokenKind.Semicolon or TokenKind.Newline or TokenKind.End;

    /// <summary>
    /// Whether the token at <paramref name="k"/> starts a binding: <c>Name =</c>, as nothing else
    /// in the language puts <c>=</c> after a name. The exception is a named argument written
    /// Python's way on a line of its own, <c>to=Soft)</c> or <c>to=Soft,</c>: that line closes a
    /// parenthesis it did not open, or ends with a comma, which a binding never does.
    /// </summary>
    private bool StartsBinding(int k)
    {
        if (_tokens[k].Kind != TokenKind.Name || _tokens[k + 1] is not ({ Kind: TokenKind.Equals } or { Text: "==" }))
        {
            return false;
        }
        int depth = 0;
        Token last = _tokens[k + 1];
        for (int j = k + 2; !EndsBinding(_tokens[j].Kind); j++)
        {
            last = _tokens[j];
            depth += last.Kind == TokenKind.OpenParen ? 1 : last.Kind == TokenKind.CloseParen ? -1 : 0;
            if (depth < 0)
            {
                return false;
            }
        }
        return last.Kind != TokenKind.Comma;
    }

    /// <summary>Whether the line after the line break at <paramref name="k"/> starts a binding (or there is none).</summary>
    private bool NextLineStartsBinding(int k)
    {
        while (_tokens[k].Kind == TokenKind.Newline)
        {
            k++;
        }
        return _tokens[k].Kind is TokenKind.End or TokenKind.Semicolon || StartsBinding(k);
    }

    /// <summary>Whether a line in (<paramref name="from"/>, <paramref name="to"/>] starts a binding.</summary>
    private bool StartsBindingBetween(int from, int to)
    {
        for (int k = from + 1; k <= to; k++)
        {
            if (_tokens[k - 1].Kind == TokenKind.Newline && StartsBinding(k))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether the token at <paramref name="k"/> is the first of a line after an earlier line with tokens.</summary>
    private bool ContinuesALine(int k)
    {
        if (k == 0 || _tokens[k - 1].Kind != TokenKind.Newline)
        {
            return false;
        }
        for (int before = k - 1; before >= 0; before--)
        {
            if (_tokens[before].Kind != TokenKind.Newline)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The index of the first token from <paramref name="from"/> on that starts at or after the start of <paramref name="span"/>.</summary>
    private int TokenAt(FormulaSpan span, int from)
    {
        int k = from;
        while (_tokens[k].Kind != TokenKind.End && _tokens[k].Span.Start < span.Start)
        {
            k++;
        }
        return k;
    }

    /// <summary>
    /// Where to resume after an error at token <paramref name="errorAt"/> in the binding that
    /// starts at <paramref name="start"/>: the end of that binding. After an error about
    /// continuing a line, the lines that do not start a binding are the rest of the same attempt
    /// and are skipped too, so that the mistake is reported once.
    /// </summary>
    private int SkipBrokenBinding(int start, int errorAt, bool continuation)
    {
        int end = EndOfBinding(start, errorAt);
        while (continuation && _tokens[end].Kind == TokenKind.Newline && !NextLineStartsBinding(end))
        {
            int next = end;
            while (_tokens[next].Kind == TokenKind.Newline)
            {
                next++;
            }
            end = EndOfBinding(next, next);
        }
        return end;
    }

    /// <summary>
    /// The first <c>;</c>, end of the formula, or line break at or after <paramref name="notBefore"/>
    /// that ends the binding starting at <paramref name="start"/>: one outside parentheses, or
    /// one before a line that starts a binding.
    /// </summary>
    private int EndOfBinding(int start, int notBefore)
    {
        int depth = 0;
        for (int k = start; ; k++)
        {
            Token token = _tokens[k];
            if (token.Kind == TokenKind.End)
            {
                return k;
            }
            if (k >= notBefore && (token.Kind == TokenKind.Semicolon || (token.Kind == TokenKind.Newline && (depth == 0 || StartsBinding(k + 1)))))
            {
                return k;
            }
            depth = token.Kind switch
            {
                TokenKind.OpenParen => depth + 1,
                TokenKind.CloseParen => Math.Max(0, depth - 1),
                _ => depth,
            };
        }
    }

    private static SyntaxErrorException Error(Token token, string message, bool continuation = false)
        // A token the lexer knows to be a mistake says best what is wrong with it.
        => new(new FormulaError(token.Problem ?? message, token.Span), continuation && token.Problem is null);

    private static SyntaxErrorException Error(FormulaSpan span, string message) => new(new FormulaError(message, span), false);

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.End => "the end of the formula",
        TokenKind.Semicolon or TokenKind.Newline => "the end of the line",
        TokenKind.Invalid => $"the character '{token.Text}'",
        _ => $"'{token.Text}'",
    };

    private sealed class SyntaxErrorException(FormulaError error, bool continuation) : Exception(error.Message)
    {
        public FormulaError Error { get; } = error;

        /// <summary>The error is about an expression continued on the next line without parentheses.</summary>
        public bool Continuation { get; } = continuation;
    }
}
