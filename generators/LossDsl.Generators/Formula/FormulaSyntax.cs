using System.Collections.Generic;

namespace LossDsl.Generators.Formula;

/// <summary>A span inside the formula text (the attribute's string value), in characters.</summary>
internal readonly record struct FormulaSpan(int Start, int Length)
{
    public int End => Start + Length;

    public static FormulaSpan FromBounds(int start, int end) => new(start, end - start);
}

/// <summary>The parsed formula: its bindings in source order; the last one is the loss.</summary>
internal sealed class FormulaSyntax(IReadOnlyList<BindingSyntax> bindings)
{
    public IReadOnlyList<BindingSyntax> Bindings { get; } = bindings;
}

/// <summary><c>Name = expr</c>, with the span of the whole line for comments and explanations.</summary>
internal sealed class BindingSyntax(string name, FormulaSpan nameSpan, ExpressionSyntax value, FormulaSpan span)
{
    public string Name { get; } = name;
    public FormulaSpan NameSpan { get; } = nameSpan;
    public ExpressionSyntax Value { get; } = value;
    public FormulaSpan Span { get; } = span;
}

internal abstract class ExpressionSyntax(FormulaSpan span)
{
    public FormulaSpan Span { get; } = span;
}

internal sealed class NumberSyntax(double value, FormulaSpan span) : ExpressionSyntax(span)
{
    public double Value { get; } = value;
}

internal sealed class NameSyntax(string name, FormulaSpan span) : ExpressionSyntax(span)
{
    public string Name { get; } = name;
}

internal sealed class NegateSyntax(ExpressionSyntax operand, FormulaSpan span) : ExpressionSyntax(span)
{
    public ExpressionSyntax Operand { get; } = operand;
}

internal sealed class BinarySyntax(char op, ExpressionSyntax left, ExpressionSyntax right, FormulaSpan span) : ExpressionSyntax(span)
{
    /// <summary>One of <c>+ - * / ^</c>.</summary>
    public char Operator { get; } = op;
    public ExpressionSyntax Left { get; } = left;
    public ExpressionSyntax Right { get; } = right;
}

internal sealed class CallSyntax(string name, FormulaSpan nameSpan, IReadOnlyList<ArgumentSyntax> arguments, FormulaSpan span) : ExpressionSyntax(span)
{
    public string Name { get; } = name;
    public FormulaSpan NameSpan { get; } = nameSpan;
    public IReadOnlyList<ArgumentSyntax> Arguments { get; } = arguments;
}

/// <summary>A positional argument (<see cref="Name"/> is null) or a named one, <c>name: expr</c>.</summary>
internal sealed class ArgumentSyntax(string? name, FormulaSpan nameSpan, ExpressionSyntax value)
{
    public string? Name { get; } = name;
    public FormulaSpan NameSpan { get; } = nameSpan;
    public ExpressionSyntax Value { get; } = value;
}

/// <summary>A syntax error: a message and the characters it is about.</summary>
internal sealed class FormulaError(string message, FormulaSpan span)
{
    public string Message { get; } = message;
    public FormulaSpan Span { get; } = span;
}
