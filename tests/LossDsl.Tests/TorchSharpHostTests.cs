using System;
using System.IO;
using System.Linq;
using System.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// Proves the native backend loads on this host (on hosts without GLIBCXX_3.4.32 only after the
/// build's fix: the README's Troubleshooting section) and autograd works.
/// </summary>
public class TorchSharpHostTests
{
    [Fact]
    public void TensorOpAndBackwardPassRun()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2.0, 3.0 }, requires_grad: true);
        var y = (x * x).sum();

        y.backward();

        Assert.Equal(14.0, y.item<double>(), 12);
        Assert.Equal(new[] { 2.0, 4.0, 6.0 }, x.grad!.data<double>().ToArray());
    }

    /// <summary>
    /// The build adapts only the copy in the output folder
    /// (src/LossDsl/buildTransitive/LossDsl.HostCompat.targets): when this host's libstdc++ lacks
    /// GLIBCXX_3.4.32 the copy differs from the package's file in one byte, the Vernaux flag that
    /// becomes VER_FLG_WEAK (0 → 2); otherwise the two are identical. The NuGet cache is never
    /// modified.
    /// </summary>
    [Fact]
    public void OnlyTheOutputCopyOfTheNativeLibraryIsAdapted()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the step acts on Linux only; there is nothing to compare elsewhere
        }
        string output = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string original = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(output), $"no native library at {output}");
        Assert.True(File.Exists(original), $"no package copy at {original}");

        byte[] adapted = File.ReadAllBytes(output), packaged = File.ReadAllBytes(original);
        int[] differences = Enumerable.Range(0, packaged.Length).Where(i => adapted[i] != packaged[i]).ToArray();

        Assert.Equal(packaged.Length, adapted.Length);
        if (HostHasGlibcxx3432())
        {
            Assert.Empty(differences);
        }
        else
        {
            int at = Assert.Single(differences);
            Assert.Equal(0, packaged[at]);
            Assert.Equal(2, adapted[at]);
        }
    }

    private static bool HostHasGlibcxx3432()
    {
        string[] candidates = { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" };
        string library = candidates.First(File.Exists);
        return Encoding.ASCII.GetString(File.ReadAllBytes(library)).Contains("GLIBCXX_3.4.32\0");
    }
}
