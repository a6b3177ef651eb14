using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;

namespace LossDsl.Benchmarks.Memory;

/// <summary>
/// Runs one measurement in a process of its own, so that what one implementation allocated (and
/// what glibc kept of it) cannot change the next one's figures. A child reports on one line of its
/// standard output: <c>result key=value key=value …</c>.
/// </summary>
public static class ChildProcess
{
    /// <summary>The prefix of the line a child reports its figures on.</summary>
    public const string ResultPrefix = "result ";

    /// <summary>The glibc variables a child starts without unless it is given them: the parent's own must not leak into a "default" child.</summary>
    public static readonly string[] AllocatorVariables = { "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES" };

    /// <summary>Runs this benchmark's own executable with <paramref name="arguments"/> (a hidden command).</summary>
    public static ChildResult RunSelf(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("the benchmark cannot find its own executable.");
        // Started as `dotnet LossDsl.Benchmarks.dll`: the host needs the assembly first.
        IEnumerable<string> prefix = Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? new[] { Assembly.GetEntryAssembly()!.Location }
            : Array.Empty<string>();
        return Run(host, prefix.Concat(arguments).ToArray(), environment);
    }

    /// <summary>Runs <paramref name="file"/> and reads its result line; a child that fails or reports nothing gives <see cref="ChildResult.Error"/>.</summary>
    public static ChildResult Run(string file, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (string name in AllocatorVariables)
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        string command = $"{file} {string.Join(' ', arguments)}";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new ChildResult(new Dictionary<string, string>(), $"cannot start {command}: {e.Message}");
        }
        using (process)
        {
            var errorText = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            string? line = output.Split('\n').LastOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
            if (process.ExitCode != 0 || line is null)
            {
                // .NET names the exception on its first line; Python on its last.
                string[] lines = errorText.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                string reason = lines.FirstOrDefault(l => l.StartsWith("Unhandled exception.", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? "";
                return new ChildResult(
                    new Dictionary<string, string>(),
                    $"{command} exited with {process.ExitCode}{(line is null ? " and no result" : "")}: {reason}");
            }
            var values = new Dictionary<string, string>();
            foreach (string pair in line[ResultPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int equals = pair.IndexOf('=');
                if (equals <= 0)
                {
                    return new ChildResult(new Dictionary<string, string>(), $"{command} reported an unreadable result: '{line}'");
                }
                values[pair[..equals]] = pair[(equals + 1)..];
            }
            return new ChildResult(values, null);
        }
    }

    /// <summary>Writes a child's result line: each value with invariant formatting.</summary>
    public static void Report(params (string Key, object Value)[] values) =>
        Console.WriteLine(ResultPrefix + string.Join(' ', values.Select(v => $"{v.Key}={Convert.ToString(v.Value, CultureInfo.InvariantCulture)}")));
}

/// <summary>What a child reported, or why it did not.</summary>
public sealed record ChildResult(IReadOnlyDictionary<string, string> Values, string? Error)
{
    /// <summary>A reported number.</summary>
    public double Number(string key) => Values.TryGetValue(key, out string? text)
        ? double.Parse(text, CultureInfo.InvariantCulture)
        : throw new KeyNotFoundException($"the child reported no '{key}' (it reported {string.Join(", ", Values.Keys)}).");
}
