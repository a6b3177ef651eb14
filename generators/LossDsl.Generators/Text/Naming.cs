using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace LossDsl.Generators.Text;

/// <summary>Case conversions for generated names and metric keys.</summary>
internal static class Naming
{
    /// <summary><c>FeatureScale</c> → <c>featureScale</c>.</summary>
    public static string Camel(string name)
        => name.Length == 0 || char.IsLower(name[0]) ? name : char.ToLowerInvariant(name[0]) + name.Substring(1);

    /// <summary><c>featureScale</c> → <c>FeatureScale</c>.</summary>
    public static string Pascal(string name)
        => name.Length == 0 || char.IsUpper(name[0]) ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);

    /// <summary><c>FeatureScale</c> → <c>feature_scale</c>; <c>KLDiv</c> → <c>kl_div</c>.</summary>
    public static string Snake(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool wordStart = i > 0 && name[i - 1] != '_' &&
                    (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])));
                if (wordStart)
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    /// <summary>Escapes a C# keyword with <c>@</c>.</summary>
    public static string Identifier(string name)
        => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) is SyntaxKind.VarKeyword
            ? "@" + name
            : name;
}

/// <summary>Hands out local variable names that clash with nothing already taken.</summary>
internal sealed class NameAllocator
{
    // Names are kept without '@', so "@class" and "class" are one name.
    private readonly HashSet<string> _taken = new();

    public void Reserve(string name) => _taken.Add(name.TrimStart('@'));

    /// <summary>A free name based on <paramref name="preferred"/>, escaped with '@' when it is a keyword.</summary>
    public string Allocate(string preferred)
    {
        string bare = preferred.TrimStart('@');
        string candidate = bare;
        for (int n = 2; _taken.Contains(candidate); n++)
        {
            candidate = bare + n;
        }
        _taken.Add(candidate);
        return Naming.Identifier(candidate);
    }
}
