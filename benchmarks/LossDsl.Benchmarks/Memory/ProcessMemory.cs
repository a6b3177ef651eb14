using System;
using System.IO;

namespace LossDsl.Benchmarks.Memory;

/// <summary>
/// What the kernel says of this process's memory (Linux only): resident set, its high-water mark,
/// resetting that mark, and minor page faults. Read from /proc/self, so the figures count native
/// (libtorch) memory and the .NET runtime's alike.
/// </summary>
public static class ProcessMemory
{
    /// <summary>The resident set size now, in bytes (<c>VmRSS</c> of /proc/self/status).</summary>
    public static long Resident() => StatusField("VmRSS:");

    /// <summary>The resident set's high-water mark since the process started or since <see cref="ResetPeak"/>, in bytes (<c>VmHWM</c>).</summary>
    public static long Peak() => StatusField("VmHWM:");

    /// <summary>
    /// Resets the high-water mark to the resident set size now (writes "5" to
    /// /proc/self/clear_refs, Linux 4.0 and later).
    /// </summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    /// <summary>Minor page faults of the process so far (field 10 of /proc/self/stat).</summary>
    public static long MinorFaults()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state), so field 10 (minflt) is fields[7].
        return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static long StatusField(string name)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                // "VmRSS:	  123456 kB"
                string[] parts = line[name.Length..].Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2 || parts[1] != "kB")
                {
                    throw new InvalidDataException($"/proc/self/status: cannot read '{line}'.");
                }
                return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidDataException($"/proc/self/status has no {name} line (not Linux?).");
    }
}
