using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using LossDsl.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>What one run of the generator produced, and what the compiler then made of it.</summary>
public sealed record GeneratorRun(
    CSharpCompilation Input,
    Compilation Output,
    GeneratorDriverRunResult Result,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> CompilationDiagnostics)
{
    /// <summary>The generated files, by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources
        => Result.Results.SelectMany(r => r.GeneratedSources).ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    /// <summary>The one generated file.</summary>
    public string Source => Assert.Single(Sources).Value;

    /// <summary>
    /// The input text a diagnostic underlines. Generator diagnostics travel as plain values and
    /// come back as file locations, so the tree is found by its path.
    /// </summary>
    public string Underlined(Diagnostic diagnostic) => TextOf(diagnostic).ToString(diagnostic.Location.SourceSpan);

    /// <summary>The text of the input file a diagnostic is in.</summary>
    public Microsoft.CodeAnalysis.Text.SourceText TextOf(Diagnostic diagnostic)
        => Input.SyntaxTrees.Single(t => t.FilePath == diagnostic.Location.GetLineSpan().Path).GetText();

    /// <summary>Errors of the generator and of compiling its output with the input.</summary>
    public IEnumerable<Diagnostic> Errors
        => GeneratorDiagnostics.Concat(CompilationDiagnostics).Where(d => d.Severity == DiagnosticSeverity.Error);
}

/// <summary>Runs the real <see cref="LossGenerator"/> through Roslyn's driver, as the compiler does.</summary>
public static class GeneratorHarness
{
    public const string Usings = """
        using LossDsl;
        using TorchSharp;
        using static TorchSharp.torch;

        """;


    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Preview);

    public static CSharpCompilation Compilation(params string[] sources)
        => CSharpCompilation.Create(
            "Consumer",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            LossDsl.Testing.LossDslReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                // As the SDK does (NoWarn 1701;1702): TorchSharp references older framework assembly versions.
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress }));

    public static GeneratorDriver Driver()
        => CSharpGeneratorDriver.Create(
            new[] { new LossGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>
    /// Runs the generator over <paramref name="sources"/> (with <see cref="Usings"/> prepended to
    /// the first), then again over an identical compilation, and checks that the second run was
    /// served from the cache: every test of the generator is also a caching test.
    /// </summary>
    public static GeneratorRun Run(params string[] sources)
    {
        sources = sources.Select((s, i) => i == 0 ? Usings + s : s).ToArray();
        CSharpCompilation input = Compilation(sources);
        var (run, driver) = Run(input, Driver());
        Caching.AssertModelHoldsNoCompilerObjects(run.Result);
        var (second, _) = Run(input.Clone(), driver);
        Caching.AssertEveryStepCachedOrUnchanged(second.Result);
        return run;
    }

    /// <summary><see cref="Run(string[])"/> without the usings prepended, for tests about what is in scope.</summary>
    public static GeneratorRun RunWithoutUsings(string source)
    {
        CSharpCompilation input = Compilation(source);
        var (run, driver) = Run(input, Driver());
        Caching.AssertModelHoldsNoCompilerObjects(run.Result);
        var (second, _) = Run(input.Clone(), driver);
        Caching.AssertEveryStepCachedOrUnchanged(second.Result);
        return run;
    }

    public static (GeneratorRun Run, GeneratorDriver Driver) Run(CSharpCompilation input, GeneratorDriver driver)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorDriverRunResult result = driver.GetRunResult();
        Assert.True(result.Results.All(r => r.Exception is null), $"the generator threw: {result.Results.Select(r => r.Exception).FirstOrDefault(e => e is not null)}");
        var run = new GeneratorRun(input, output, result, generatorDiagnostics, output.GetDiagnostics());
        return (run, driver);
    }
}
