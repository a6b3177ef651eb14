using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.CompilerServices;
using Xunit;

namespace LossDsl.Package.Tests;

/// <summary>
/// Packs LossDsl into a folder and consumes it the way a user does: a fresh project outside the
/// solution (Consumer/, copied to a temporary folder) restores the package from that folder,
/// builds with the generator from the package, runs, and its generated code is compared with the
/// committed copy in Consumer/Generated — the recipe for snapshot-testing generated code in CI.
/// </summary>
public sealed class PackageTests(PackedPackage package) : IClassFixture<PackedPackage>
{
    private static readonly string s_repo = PackedPackage.Repo;

    [Fact]
    public void ThePackageHoldsTheLibraryTheGeneratorAndTheBuildStepAndNothingElse()
    {
        string[] entries = Entries(package.Path);

        Assert.Contains("lib/net10.0/LossDsl.dll", entries);
        Assert.Contains("lib/net10.0/LossDsl.xml", entries);
        Assert.Contains("analyzers/dotnet/cs/LossDsl.Generators.dll", entries);
        Assert.Contains("buildTransitive/LossDsl.targets", entries);
        Assert.Contains("buildTransitive/LossDsl.HostCompat.targets", entries);
        Assert.Contains("README.md", entries);
        Assert.Single(entries, e => e.StartsWith("analyzers/", StringComparison.Ordinal)); // nothing of TorchSharp or Roslyn beside the generator
        Assert.Equal(new[] { "buildTransitive/LossDsl.HostCompat.targets", "buildTransitive/LossDsl.targets" },
            entries.Where(e => e.StartsWith("build", StringComparison.Ordinal)).OrderBy(e => e, StringComparer.Ordinal));
        string nuspec = Nuspec(package.Path);
        Assert.Contains("<dependency id=\"TorchSharp\" version=\"0.107.0\"", nuspec);
        Assert.DoesNotContain("Microsoft.CodeAnalysis", nuspec);
        Assert.Contains("<license type=\"expression\">MIT</license>", nuspec);
        Assert.Contains("<readme>README.md</readme>", nuspec);
        Assert.Contains("<description>", nuspec);
    }

    [Fact]
    public void TheConsumerBuildsAndRunsFromThePackageAndItsGeneratedCodeMatchesTheCommittedCopy()
    {
        string consumer = System.IO.Path.Combine(package.Work, "consumer");
        CopyTemplate(System.IO.Path.Combine(s_repo, "tests", "LossDsl.Package.Tests", "Consumer"), consumer);
        File.WriteAllText(System.IO.Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{package.Feed}" />
              </packageSources>
            </configuration>
            """);

        var build = PackedPackage.Dotnet(consumer, "build", $"-p:LossDslVersion={package.Version}");
        Assert.True(build.Code == 0, $"the consumer does not build from the package:\n{build.Output}");
        Assert.Contains("LossDsl.Generators", Directory.GetDirectories(System.IO.Path.Combine(consumer, "Generated")).Select(System.IO.Path.GetFileName));

        var run = PackedPackage.Dotnet(consumer, "run", "--no-build");
        Assert.True(run.Code == 0, $"the consumer does not run:\n{run.Output}");
        Assert.Contains("step 3 distill/total ", run.Output);
        Assert.Contains("step 3 distill/kd_scale ", run.Output);
        Assert.Contains("Total = Hard + Alpha * Kd * KdScale   [the loss]", run.Output);

        string committed = System.IO.Path.Combine(s_repo, "tests", "LossDsl.Package.Tests", "Consumer", "Generated");
        // As for the generator's snapshots: LOSSDSL_ACCEPT_SNAPSHOTS=1 accepts the new copy locally, never in CI.
        if (Environment.GetEnvironmentVariable("LOSSDSL_ACCEPT_SNAPSHOTS") == "1" && Environment.GetEnvironmentVariable("CI") != "true")
        {
            foreach (string file in Directory.GetFiles(System.IO.Path.Combine(consumer, "Generated"), "*.cs", SearchOption.AllDirectories))
            {
                string target = System.IO.Path.Combine(committed, System.IO.Path.GetRelativePath(System.IO.Path.Combine(consumer, "Generated"), file));
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                File.Copy(file, target, overwrite: true);
            }
        }
        AssertSameFiles(committed, System.IO.Path.Combine(consumer, "Generated"));
    }

    private static string[] Entries(string package)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        return zip.Entries.Select(e => e.FullName).ToArray();
    }

    private static string Nuspec(string package)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        using var reader = new StreamReader(zip.GetEntry("LossDsl.nuspec")!.Open());
        return reader.ReadToEnd();
    }

    /// <summary>The generated files must equal the committed ones, file for file (line endings and BOM aside).</summary>
    private static void AssertSameFiles(string expectedFolder, string actualFolder)
    {
        // As with the generator snapshots: LOSSDSL_ACCEPT_SNAPSHOTS=1 takes the new copy locally, never in CI.
        if (Environment.GetEnvironmentVariable("LOSSDSL_ACCEPT_SNAPSHOTS") == "1" && Environment.GetEnvironmentVariable("CI") != "true")
        {
            if (Directory.Exists(expectedFolder))
            {
                Directory.Delete(expectedFolder, recursive: true);
            }
            foreach (string file in Directory.GetFiles(actualFolder, "*.cs", SearchOption.AllDirectories))
            {
                string target = Path.Combine(expectedFolder, Path.GetRelativePath(actualFolder, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }

        static Dictionary<string, string> Read(string folder) => Directory.GetFiles(folder, "*.cs", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), f => File.ReadAllText(f).TrimStart('\uFEFF').ReplaceLineEndings("\n"));

        var expected = Read(expectedFolder);
        var actual = Read(actualFolder);
        Assert.Equal(expected.Keys.OrderBy(k => k), actual.Keys.OrderBy(k => k));
        foreach (var (file, text) in expected)
        {
            Assert.True(text == actual[file], $"{file} differs from the committed copy; if the change is intended, copy {Path.Combine(actualFolder, file)} over it.");
        }
    }

    private static void CopyTemplate(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (relative.StartsWith("Generated", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal) || relative.StartsWith("obj", StringComparison.Ordinal))
            {
                continue; // the consumer starts without the committed snapshot: the build writes its own
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }

}

/// <summary>LossDsl packed once per test class, under a version of its own so NuGet's cache never serves an older build.</summary>
public sealed class PackedPackage : IDisposable
{
    public static readonly string Repo = RepoRoot();

    public PackedPackage()
    {
        Version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        Work = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lossdsl-package-" + Guid.NewGuid().ToString("N"));
        Feed = System.IO.Path.Combine(Work, "feed");
        var pack = Dotnet(Repo, "pack", "src/LossDsl/LossDsl.csproj", "-c", "Release", "-o", Feed, $"-p:Version={Version}");
        Path = System.IO.Path.Combine(Feed, $"LossDsl.{Version}.nupkg");
        if (pack.Code != 0 || !File.Exists(Path))
        {
            throw new InvalidOperationException($"dotnet pack failed:\n{pack.Output}");
        }
    }

    public string Version { get; }
    public string Work { get; }
    public string Feed { get; }
    public string Path { get; }

    public void Dispose()
    {
        TryDelete(Work);
        TryDelete(System.IO.Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "lossdsl", Version));
    }

    public static (int Code, string Output) Dotnet(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The test host's MSBuild settings must not leak into a separate build.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string RepoRoot([CallerFilePath] string file = "") => System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(file)!, "..", ".."));
}
