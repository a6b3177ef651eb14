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

    /// <summary>
    /// Blocks at least this large are mapped on their own (1 GiB); smaller ones come from the heap
    /// and are reused. glibc's own dynamic threshold stops at 32 MiB, which one float32 logits
    /// tensor of 8 × 128 × 8192 already exceeds: below 1 GiB, such buffers were mapped and faulted
    /// in anew on every step (benchmarks/README.md, "The allocator").
    /// </summary>
    public const int MmapThreshold = 1024 * 1024 * 1024;

    /// <summary>The mmap threshold used where glibc refuses <see cref="MmapThreshold"/>: its largest dynamic threshold on 64-bit systems (32 MiB).</summary>
    private const int CappedMmapThreshold = 32 * 1024 * 1024;

    /// <summary>Free memory at the top of the heap kept for reuse before glibc trims it (1 GiB).</summary>
    public const int TrimThreshold = 1024 * 1024 * 1024;

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
            // mallopt returns 1 on success and 0 when glibc refuses the value (then nothing changed).
            int mmapThreshold = mallopt(MmapThresholdOption, MmapThreshold) == 1 ? MmapThreshold
                : mallopt(MmapThresholdOption, CappedMmapThreshold) == 1 ? CappedMmapThreshold
                : 0;
            if (mmapThreshold == 0)
            {
                return "glibc refused the thresholds: allocator left as it is";
            }
            string mmap = $"mmap {mmapThreshold >> 20} MiB{(mmapThreshold == MmapThreshold ? "" : ", the most this glibc accepts")}";
            return mallopt(TrimThresholdOption, TrimThreshold) == 1
                ? $"glibc thresholds pinned ({mmap}, trim {TrimThreshold >> 20} MiB)"
                : $"glibc mmap threshold pinned ({mmap}); it refused the trim threshold";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "no mallopt in this C library: allocator left as it is";
        }
    }

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int mallopt(int option, int value);
}
