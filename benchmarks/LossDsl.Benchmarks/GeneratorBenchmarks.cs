using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Attributes;
using LossDsl.Generators;
using LossDsl.Testing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace LossDsl.Benchmarks;

/// <summary>
/// The generator's cost inside a build: a cold run over a compilation of N loss classes, a warm
/// run after an unrelated edit (what an IDE does on each keystroke), both against the baseline of
/// compiling the same program (the classes plus the generated code) without the generator.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InProcessConfig))]
public class GeneratorBenchmarks
{
    private static readonly CSharpParseOptions s_parse = new(LanguageVersion.Latest);

    private CSharpCompilation _input = null!;
    private CSharpCompilation _program = null!;
    private CSharpCompilation _edited = null!;
    private GeneratorDriver _warm = null!;

    [Params(10, 100, 1000)]
    public int Classes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var trees = Enumerable.Range(0, Classes).Select(i => CSharpSyntaxTree.ParseText(LossClass(i), s_parse, $"Loss{i}.cs")).ToList();
        trees.Add(CSharpSyntaxTree.ParseText(Unrelated("x * 2"), s_parse, "Unrelated.cs"));
        _input = CSharpCompilation.Create("Losses", trees, LossDsl.Testing.LossDslReferences.All, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

        GeneratorDriver driver = Driver().RunGeneratorsAndUpdateCompilation(_input, out Compilation output, out var diagnostics);
        if (diagnostics.Length > 0 || output.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            throw new InvalidOperationException("The synthetic losses do not compile: " + string.Join("\n", output.GetDiagnostics().Take(5)));
        }
        _program = (CSharpCompilation)output;
        _warm = driver;
        SyntaxTree unrelated = trees[^1];
        _edited = _input.ReplaceSyntaxTree(unrelated, unrelated.WithChangedText(SourceText.From(Unrelated("x + x"))));
    }

    /// <summary>Compiling the program (losses and generated code) with no generator: the baseline.</summary>
    [Benchmark(Baseline = true)]
    public long CompileWithoutGenerator()
    {
        // A fresh compilation each time, so no binding is reused; the syntax trees are already parsed.
        var compilation = CSharpCompilation.Create("Program", _program.SyntaxTrees, _program.References, _program.Options);
        using var stream = new MemoryStream();
        return compilation.Emit(stream).Success ? stream.Length : throw new InvalidOperationException("compile failed");
    }

    [Benchmark]
    public GeneratorDriver GeneratorCold() => Driver().RunGenerators(_input);

    [Benchmark]
    public GeneratorDriver GeneratorWarmAfterUnrelatedEdit() => _warm.RunGenerators(_edited);

    private static GeneratorDriver Driver() => CSharpGeneratorDriver.Create(new[] { new LossGenerator().AsSourceGenerator() }, parseOptions: s_parse);

    /// <summary>
    /// The README's distillation loss (tests/Shared/DistillationLoss.cs, embedded), once per class:
    /// each copy in a namespace of its own, so every class and hint name is distinct.
    /// </summary>
    private static string LossClass(int i) => DistillationLossSource.InNamespace($"Synthetic.N{i}");

    private static string Unrelated(string body) => $$"""
        namespace Synthetic;

        public static class Helpers
        {
            public static int Twice(int x) => {{body}};
        }
        """;
}
