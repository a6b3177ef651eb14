using System;
using System.Collections.Generic;
using System.Globalization;

namespace LossDsl.Benchmarks.Memory;

/// <summary>The options of the <c>memory</c> and <c>allocator</c> commands, and of their children.</summary>
internal static class CommandOptions
{
    /// <summary>
    /// The options after a command's name as (name, value) pairs: each <c>--name</c> followed by its value.
    /// </summary>
    /// <exception cref="ArgumentException">An option is not a <c>--name</c> or has no value after it.</exception>
    public static IEnumerable<(string Name, string Value)> Pairs(IReadOnlyList<string> options)
    {
        for (int i = 0; i < options.Count; i += 2)
        {
            if (!options[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= options.Count)
            {
                throw new ArgumentException($"'{options[i]}' is not an option followed by its value.");
            }
            yield return (options[i], options[i + 1]);
        }
    }

    /// <summary>A positive whole number, or an <see cref="ArgumentException"/> naming <paramref name="what"/>.</summary>
    public static int Positive(string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0
            ? count
            : throw new ArgumentException($"'{text}' is not a valid {what}: expected a positive integer.");
}
