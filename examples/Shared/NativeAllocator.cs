using System;
using System.Runtime.InteropServices;

namespace LossDsl.Examples;

/// <summary>
/// Keeps glibc from giving freed memory back to the operating system after every training step
/// and faulting it in again on the next one. libtorch's CPU tensors come from glibc's
/// <c>malloc</c>; by default glibc raises its mmap threshold as large blocks are freed and trims
/// the top of the heap when more than twice that is free, so depending on the process's history
/// a step's buffers are returned and re-faulted on every call (thousands of page faults, as long
/// as the loss itself). Fixing the two thresholds, as the environment variables
/// <c>MALLOC_MMAP_THRESHOLD_</c> and <c>MALLOC_TRIM_THRESHOLD_</c> would, stops that.
/// See README.md, "Performance".
/// </summary>
internal static class NativeAllocator
{
    /// <summary>glibc's <c>M_TRIM_THRESHOLD</c>.</summary>
    private const int TrimThresholdOption = -1;

    /// <summary>glibc's <c>M_MMAP_THRESHOLD</c>.</summary>
    private const int MmapThresholdOption = -3;

    /// <summary>Blocks at least this large are mapped on their own: glibc's largest allowed value on 64-bit systems (32 MiB).</summary>
    public const int MmapThreshold = 32 * 1024 * 1024;

    /// <summary>Free memory at the top of the heap kept for reuse before glibc trims it (512 MiB).</summary>
    public const int TrimThreshold = 512 * 1024 * 1024;

    /// <summary>
    /// Fixes glibc's thresholds (<see cref="MmapThreshold"/>, <see cref="TrimThreshold"/>) unless
    /// the environment already sets either. Call it once, at start-up, before the first tensor.
    /// </summary>
    /// <returns>What the allocator now does, for the run's log.</returns>
    public static string Pin()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not glibc: allocator left as it is";
        }
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
        {
            return "glibc thresholds set by the environment";
        }
        try
        {
            // mallopt returns 1 on success and 0 when glibc refuses the value.
            if (mallopt(MmapThresholdOption, MmapThreshold) == 1 && mallopt(TrimThresholdOption, TrimThreshold) == 1)
            {
                return $"glibc thresholds pinned (mmap {MmapThreshold >> 20} MiB, trim {TrimThreshold >> 20} MiB)";
            }
            return "glibc refused the thresholds: allocator left as it is";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "no mallopt in this C library: allocator left as it is";
        }
    }

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int mallopt(int option, int value);
}
