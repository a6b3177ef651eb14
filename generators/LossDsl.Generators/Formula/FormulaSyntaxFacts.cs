using System.Collections.Generic;

namespace LossDsl.Generators.Formula;

/// <summary>Questions about formula syntax that need no declarations.</summary>
internal static class FormulaSyntaxFacts
{
    /// <summary>Every name an expression uses (not function or option names), in order.</summary>
    public static IEnumerable<string> NamesUsed(ExpressionSyntax expression)
    {
        var stack = new Stack<ExpressionSyntax>();
        stack.Push(expression);
        while (stack.Count > 0)
        {
            switch (stack.Pop())
            {
                case NameSyntax name:
                    yield return name.Name;
                    break;
                case NegateSyntax negate:
                    stack.Push(negate.Operand);
                    break;
                case BinarySyntax binary:
                    stack.Push(binary.Right);
                    stack.Push(binary.Left);
                    break;
                case CallSyntax call:
                    for (int i = call.Arguments.Count - 1; i >= 0; i--)
                    {
                        stack.Push(call.Arguments[i].Value);
                    }
                    break;
            }
        }
    }
}
