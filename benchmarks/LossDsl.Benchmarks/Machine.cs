using System;
using System.IO;

namespace LossDsl.Benchmarks;

/// <summary>What the reports say of the machine they ran on.</summary>
internal static class Machine
{
    /// <summary>The load average (1, 5 and 15 minutes) as /proc/loadavg gives it, or "unknown" off Linux.</summary>
    public static string LoadAverage()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path))
        {
            return "unknown";
        }
        string[] fields = File.ReadAllText(path).Split(' ');
        return $"{fields[0]} / {fields[1]} / {fields[2]}";
    }
}

/// <summary>Where the PyTorch scripts of benchmarks/pytorch are, and which Python runs them.</summary>
internal static class PythonScript
{
    /// <summary>
    /// <c>LOSSDSL_PYTHON</c> if set, else Debian's /usr/bin/python3 (where <c>python3-torch</c>
    /// installs PyTorch), else <c>python3</c> from the path.
    /// </summary>
    public static string Interpreter() =>
        Environment.GetEnvironmentVariable("LOSSDSL_PYTHON")
        ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

    /// <summary>
    /// The script's path, found by walking up from the working folder or the benchmark's output
    /// folder to the repository.
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither is inside the repository.</exception>
    public static string Path(string name)
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                string candidate = System.IO.Path.Combine(folder.FullName, "benchmarks", "pytorch", name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new FileNotFoundException(
            $"benchmarks/pytorch/{name} is not above {Environment.CurrentDirectory} or {AppContext.BaseDirectory}: run the benchmark from its repository.");
    }
}
