using System;
using System.Linq;
using System.Text;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Formulas of hostile size: the generator's cost stays linear in the formula (bounded "did you
/// mean", iterative walks), so huge or crafted formulas get their errors, or their code, without
/// exhausting memory or the stack. Costs are measured as allocations on the test's own thread
/// (deterministic); times are printed for the record, not asserted.
/// </summary>
public class HostileSizeTests(ITestOutputHelper output)
{
    [Fact]
    public void Did_you_mean_does_not_compare_huge_names()
    {
        string a = new('x', 50_000), b = new('y', 50_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Null(Spelling.Closest(a, new[] { b, "Hard", "Soft" }));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1_000_000, $"{allocated:N0} bytes for one comparison");
    }

    [Fact]
    public void A_100_KB_formula_with_two_50_000_character_names_gets_its_error()
    {
        string formula = $"{new string('A', 50_000)} = {new string('B', 50_000)}";
        GeneratorRun run = Timed("100 KB formula", () => GeneratorHarness.Run(Sources.ThreeTerms(SymbolDisplay.FormatLiteral(formula, quote: true))));
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "LD0103");
        Assert.Equal(new string('B', 50_000), run.Underlined(error));
    }

    [Fact]
    public void Three_thousand_bindings_with_three_thousand_unknown_names_get_one_error_each()
    {
        // 3,000 good bindings B{i}, then 3,000 unknown names C{i}, each one edit from a B{i}.
        var formula = new StringBuilder();
        for (int i = 0; i < 3_000; i++)
        {
            formula.Append($"B{i} = Hard\n");
        }
        for (int line = 0; line < 30; line++)
        {
            formula.Append($"T{line} = {string.Join(" + ", Enumerable.Range(line * 100, 100).Select(i => $"C{i}"))}\n");
        }
        formula.Append("Total = Hard");
        GeneratorRun run = Timed("3,000 unknown names", () => GeneratorHarness.Run(Sources.ThreeTerms(SymbolDisplay.FormatLiteral(formula.ToString(), quote: true))));
        Assert.Equal(3_000, run.GeneratorDiagnostics.Count(d => d.Id == "LD0103"));
        // "Did you mean" is bounded per formula: the first 32 unknown names get a suggestion, the rest none.
        Assert.Equal(32, run.GeneratorDiagnostics.Count(d => d.Id == "LD0103" && d.GetMessage().Contains("did you mean")));
    }

    [Fact]
    public void A_chain_of_three_thousand_cancelling_bindings_is_balanced_without_a_deep_stack()
    {
        // Each binding is a sum of the one before: the rounding bound of the last walks all of them.
        var formula = new StringBuilder("K0 = Soft - Feature\n");
        for (int i = 1; i < 3_000; i++)
        {
            formula.Append($"K{i} = K{i - 1} + Soft\n");
        }
        formula.Append("Total = Hard + Balance(K2999, to: Hard)");
        CSharpCompilation input = GeneratorHarness.Compilation(GeneratorHarness.Usings + Sources.ThreeTerms(SymbolDisplay.FormatLiteral(formula.ToString(), quote: true), "SampleResult"));

        // The generator alone: compiling its 1 MB of output is the compiler's (linear) work.
        GeneratorDriverRunResult result = Timed("3,000-binding chain", () => GeneratorHarness.Driver().RunGenerators(input).GetRunResult());
        Assert.Null(result.Results.Single().Exception);
        output.WriteLine(string.Join("\n", result.Diagnostics.Select(d => d.ToString()).Distinct().Take(3)));
        Assert.DoesNotContain(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        string source = result.Results.Single().GeneratedSources.Single().SourceText.ToString();
        Assert.Contains("k2999Bound = k2998Bound.add(soft.abs());", source);
    }

    private T Timed<T>(string what, Func<T> run)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        T result = run();
        output.WriteLine($"{what}: {watch.Elapsed.TotalSeconds:F2} s");
        return result;
    }
}
