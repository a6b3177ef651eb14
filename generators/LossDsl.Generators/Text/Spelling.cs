using System;
using System.Collections.Generic;
using System.Linq;

namespace LossDsl.Generators.Text;

/// <summary>"Did you mean": the nearest known name to a misspelt one.</summary>
internal static class Spelling
{
    // Names longer than this are not typos of anything: comparing them would cost time and memory
    // quadratic in their length for no useful answer.
    private const int MaxLength = 64;

    /// <summary>The candidate nearest to <paramref name="name"/> by edit distance, if near enough to be a typo.</summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        if (name.Length > MaxLength)
        {
            return null;
        }
        int limit = Math.Max(1, name.Length / 3); // one edit for short names, a third of the name for longer ones
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates.Distinct().OrderBy(c => c, StringComparer.Ordinal))
        {
            if (Math.Abs(candidate.Length - name.Length) > limit || candidate.Length > MaxLength)
            {
                continue;
            }
            int distance = EditDistance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best is not null && bestDistance <= limit ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
