using System;
using System.Collections.Generic;

namespace LossDsl.Generators.Formula;

/// <summary>
/// Recursive-descent parser for the formula language (DESIGN.md §2). A syntax error in one
/// binding is reported and the parser resumes at the next separator, so every broken line is
/// reported once and nothing after it is lost.
/// </summary>
internal sealed class FormulaParser
{
    private readonly List<Token> _tokens;
    private readonly List<FormulaError> _errors = new();
    private const int MaxDepth = 64;
    private const int MaxOperations = 256; // a left-leaning chain is as deep as it is long
    private int _operations;
    private int _position;
    private int _depth;

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
            if (Current.Kind == TokenKind.Separator)
            {
                _position++;
                continue;
            }
            try
            {
                _depth = 0;
                _operations = 0;
                bindings.Add(ParseBinding());
            }
            catch (SyntaxErrorException error)
            {
                _errors.Add(error.Error);
                while (Current.Kind != TokenKind.Separator && Current.Kind != TokenKind.End)
                {
                    _position++;
                }
            }
        }
        return bindings;
    }

    private BindingSyntax ParseBinding()
    {
        Token name = Current;
        if (name.Kind != TokenKind.Name)
        {
            throw Error(name, $"expected a binding such as 'Total = Hard + Soft', but found {Describe(name)}");
        }
        _position++;
        if (Current.Kind != TokenKind.Equals)
        {
            throw Error(Current, $"expected '=' after '{name.Text}', but found {Describe(Current)}");
        }
        _position++;
        ExpressionSyntax value = ParseExpression();
        if (Current.Kind != TokenKind.Separator && Current.Kind != TokenKind.End)
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
            _position++;
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
            _position++;
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
            _position++;
            if (++_depth > MaxDepth)
            {
                throw Error(minus, $"the expression is nested more than {MaxDepth} levels deep");
            }
            ExpressionSyntax operand = ParseUnary();
            _depth--;
            return new NegateSyntax(operand, FormulaSpan.FromBounds(minus.Span.Start, operand.Span.End));
        }
        return ParsePrimary();
    }

    private ExpressionSyntax ParsePrimary()
    {
        Token token = Current;
        switch (token.Kind)
        {
            case TokenKind.Number:
                _position++;
                return new NumberSyntax(token.Number, token.Span);

            case TokenKind.Name:
                _position++;
                return Current.Kind == TokenKind.OpenParen ? ParseCall(token) : new NameSyntax(token.Text, token.Span);

            case TokenKind.OpenParen:
                _position++;
                ExpressionSyntax inner = ParseExpression();
                Expect(TokenKind.CloseParen, token, "'(' is not closed: expected ')'");
                return inner;

            case TokenKind.Separator or TokenKind.End when _position > 0:
                // Point at the operator or '(' that is left without an operand, not at the line break.
                Token previous = _tokens[_position - 1];
                throw Error(previous, $"expected a number, a name or '(' after '{previous.Text}'");

            default:
                throw Error(token, $"expected a number, a name or '(', but found {Describe(token)}");
        }
    }

    private CallSyntax ParseCall(Token name)
    {
        Token open = Current;
        _position++;
        var arguments = new List<ArgumentSyntax>();
        bool named = false;
        if (Current.Kind != TokenKind.CloseParen)
        {
            while (true)
            {
                if (Current.Kind == TokenKind.Name && _tokens[_position + 1].Kind == TokenKind.Colon)
                {
                    Token argumentName = Current;
                    _position += 2;
                    arguments.Add(new ArgumentSyntax(argumentName.Text, argumentName.Span, ParseExpression()));
                    named = true;
                }
                else
                {
                    ExpressionSyntax value = ParseExpression();
                    if (named)
                    {
                        throw new SyntaxErrorException(new FormulaError("a positional argument cannot follow a named one", value.Span));
                    }
                    arguments.Add(new ArgumentSyntax(null, default, value));
                }
                if (Current.Kind != TokenKind.Comma)
                {
                    break;
                }
                _position++;
            }
        }
        Token close = Expect(TokenKind.CloseParen, open, $"the call to '{name.Text}' is not closed: expected ')' or ','");
        return new CallSyntax(name.Text, name.Span, arguments, FormulaSpan.FromBounds(name.Span.Start, close.Span.End));
    }

    private Token Expect(TokenKind kind, Token opener, string message)
    {
        Token token = Current;
        if (token.Kind != kind)
        {
            // Point at what is wrong; at the end of a line point at the opener that is left open.
            throw token.Kind is TokenKind.Separator or TokenKind.End
                ? Error(opener, message)
                : Error(token, $"{message}, but found {Describe(token)}");
        }
        _position++;
        return token;
    }

    private static SyntaxErrorException Error(Token token, string message)
    {
        if (token.Kind == TokenKind.NumberTooLarge)
        {
            message = $"the number '{token.Text}' is too large";
        }
        return new SyntaxErrorException(new FormulaError(message, token.Span));
    }

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.End => "the end of the formula",
        TokenKind.Separator => "the end of the line",
        TokenKind.Invalid => $"the character '{token.Text}'",
        _ => $"'{token.Text}'",
    };

    private sealed class SyntaxErrorException(FormulaError error) : Exception(error.Message)
    {
        public FormulaError Error { get; } = error;
    }
}
