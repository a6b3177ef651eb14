using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace LossDsl.Examples;

/// <summary>A wrong option value: the message names the option, as the run reports it.</summary>
internal sealed class OptionException(string option, string problem) : Exception($"{option} {problem}");

/// <summary>The command-line loop and value checks the examples' options share.</summary>
internal static class OptionParser
{
    /// <summary>
    /// Reads <paramref name="args"/> into options, starting from <paramref name="defaults"/>.
    /// <paramref name="apply"/> takes the options so far, an option's name and a reader of its
    /// value, and returns the changed options, or null when the name is not an option.
    /// After the last argument <paramref name="check"/> checks the options as a whole, then the
    /// output folder is checked for writing. Returns null and a one-line error naming the option
    /// when one is wrong; returns null and no error when help was asked for.
    /// </summary>
    public static T? Parse<T>(IReadOnlyList<string> args, T defaults, Func<T, string, Func<string>, T?> apply, Action<T> check, Func<T, string> outputFolder, out string? error)
        where T : class
    {
        error = null;
        T options = defaults;
        try
        {
            for (int i = 0; i < args.Count; i++)
            {
                string name = args[i];
                if (name is "-h" or "--help")
                {
                    return null;
                }
                string Value() => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                    ? args[++i]
                    : throw new OptionException(name, "needs a value");
                options = apply(options, name, Value) ?? throw new OptionException(name, "is not an option (see --help)");
            }
            check(options);
            CheckOutputFolder(outputFolder(options));
            return options;
        }
        catch (OptionException e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>A whole number of at least <paramref name="min"/>.</summary>
    public static int Int(string name, string text, int min)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            throw new OptionException(name, $"must be a whole number, not '{text}'");
        }
        return value >= min ? value : throw new OptionException(name, $"must be at least {min}, not {value}");
    }

    /// <summary>A finite number that <paramref name="valid"/> accepts; <paramref name="rule"/> says which when it does not.</summary>
    public static double Real(string name, string text, Func<double, bool> valid, string rule)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            throw new OptionException(name, $"must be a number, not '{text}'");
        }
        return valid(value) ? value : throw new OptionException(name, $"{rule}, not {text}");
    }

    /// <summary>One of <paramref name="allowed"/>, in any case; returned in lower case.</summary>
    public static string OneOf(string name, string text, params string[] allowed)
        => allowed.Contains(text, StringComparer.OrdinalIgnoreCase)
            ? text.ToLowerInvariant()
            : throw new OptionException(name, $"must be one of {string.Join(", ", allowed)}, not '{text}'");

    /// <summary>Fails now, not after training, when the output folder cannot be written.</summary>
    private static void CheckOutputFolder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new OptionException("--out", $"cannot write to '{folder}': {e.Message}");
        }
    }
}
