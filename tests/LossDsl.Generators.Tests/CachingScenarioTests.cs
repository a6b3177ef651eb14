using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>What the incremental pipeline redoes after an edit: only what the edit touched.</summary>
public class CachingScenarioTests
{
    private static string Loss(string name, string formula) => GeneratorHarness.Usings + $$"""
        namespace Sample;

        public partial class {{name}}
        {
            public double Alpha { get; set; } = 0.5;
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();

            [Loss("{{formula}}")]
            public partial Tensor Compute(Tensor x);
        }
        """;

    private const string Unrelated = """
        namespace Sample;

        public static class Helpers
        {
            public static int Twice(int x) => x * 2;
        }
        """;

    [Fact]
    public void AnUnrelatedEditLeavesEveryOutputCached()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Loss("First", "Total = Hard + Soft"), Unrelated);
        var (_, driver) = GeneratorHarness.Run(first, GeneratorHarness.Driver());

        SyntaxTree helpers = first.SyntaxTrees.Last();
        CSharpCompilation edited = first.ReplaceSyntaxTree(helpers, helpers.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(Unrelated.Replace("x * 2", "x + x"))));
        var (run, _) = GeneratorHarness.Run(edited, driver);

        Assert.All(Outputs(run), o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
    }

    [Fact]
    public void EditingOneLossRegeneratesOnlyThatOne()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Loss("First", "Total = Hard + Soft"), Loss("Second", "Total = Hard * 2"));
        var (_, driver) = GeneratorHarness.Run(first, GeneratorHarness.Driver());

        SyntaxTree second = first.SyntaxTrees.Last();
        CSharpCompilation edited = first.ReplaceSyntaxTree(second, CSharpSyntaxTree.ParseText(Loss("Second", "Total = Hard * 3"), GeneratorHarness.ParseOptions, second.FilePath));
        var (run, _) = GeneratorHarness.Run(edited, driver);

        var outputs = Outputs(run);
        Assert.Equal(2, outputs.Length);
        Assert.Single(outputs, o => o.Reason == IncrementalStepRunReason.Modified && Hint(o.Value) == "Sample.Second.LossDsl.g.cs");
        Assert.Single(outputs, o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged && Hint(o.Value) == "Sample.First.LossDsl.g.cs");
        Assert.Contains("hard.mul(3.0)", run.Sources["Sample.Second.LossDsl.g.cs"]);
    }

    [Fact]
    public void EditingAMethodBodyOfALossClassKeepsItsOutputUnchanged()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Loss("First", "Total = Hard + Soft"));
        var (_, driver) = GeneratorHarness.Run(first, GeneratorHarness.Driver());

        SyntaxTree tree = first.SyntaxTrees.Single();
        string edited = Loss("First", "Total = Hard + Soft").Replace("x.abs().mean()", "x.abs().mean() * 1");
        var (run, _) = GeneratorHarness.Run(first.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(edited, GeneratorHarness.ParseOptions, tree.FilePath)), driver);

        // The spec is rebuilt from the edited tree, compares equal, and the emitter does not run again.
        Assert.All(Outputs(run), o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
    }

    [Fact]
    public void AddingALossClassAddsANewOutput()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Loss("First", "Total = Hard + Soft"));
        var (_, driver) = GeneratorHarness.Run(first, GeneratorHarness.Driver());

        CSharpCompilation added = first.AddSyntaxTrees(CSharpSyntaxTree.ParseText(Loss("Second", "Total = Hard"), GeneratorHarness.ParseOptions, "Source1.cs"));
        var (run, _) = GeneratorHarness.Run(added, driver);

        var outputs = Outputs(run);
        Assert.Single(outputs, o => o.Reason == IncrementalStepRunReason.New && Hint(o.Value) == "Sample.Second.LossDsl.g.cs");
        Assert.Single(outputs, o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged && Hint(o.Value) == "Sample.First.LossDsl.g.cs");
    }

    [Fact]
    public void AnEditAboveALossWithAWarningMovesTheWarningWithoutReemitting()
    {
        string source = Loss("First", "Total = Hard").Replace("public partial Tensor Compute(Tensor x)", "public partial Tensor Compute(Tensor x, Tensor unused)");
        CSharpCompilation first = GeneratorHarness.Compilation(source);
        var (before, driver) = GeneratorHarness.Run(first, GeneratorHarness.Driver());

        SyntaxTree tree = first.SyntaxTrees.Single();
        string moved = source.Replace("namespace Sample;", "namespace Sample;\n\n// a comment added above the loss\n");
        var (run, _) = GeneratorHarness.Run(first.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(moved, GeneratorHarness.ParseOptions, tree.FilePath)), driver);

        // The emission model holds no positions: it compares equal, and the emitter does not run again.
        Assert.All(Outputs(run), o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        // The warnings (the unused term Soft, the unused parameter) are reported again, three lines lower.
        int Line(GeneratorRun r, string id) => r.GeneratorDiagnostics.Single(d => d.Id == id).Location.GetLineSpan().StartLinePosition.Line;
        Assert.Equal(Line(before, "LD0204") + 3, Line(run, "LD0204"));
        Assert.Equal(Line(before, "LD0203") + 3, Line(run, "LD0203"));
    }

    /// <summary>Two losses whose formulas read a member and call terms that take the [Loss] method's parameters.</summary>
    private static string Parameterized(string name, string formula, string member = "public double Alpha { get; set; } = 0.5;", string soft = "Soft(Tensor x)") => GeneratorHarness.Usings + $$"""
        namespace Sample;

        public partial class {{name}}
        {
            {{member}}
            [Term] Tensor Hard(Tensor x, Tensor y) => (x - y).abs().mean();
            [Term] Tensor {{soft}} => x.abs().mean();

            [Loss("{{formula}}")]
            public partial Tensor Compute(Tensor x, Tensor y);
        }
        """;

    [Fact]
    public void AnUnrelatedEditCompilesNoFormulaAgain()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(
            Parameterized("First", "Total = Hard + Alpha * Soft"), Parameterized("Second", "Total = Hard * 2 + Soft"), Unrelated);
        var (_, driver) = GeneratorHarness.Run(first, GeneratorHarness.Driver());

        SyntaxTree helpers = first.SyntaxTrees.Last();
        CSharpCompilation edited = first.ReplaceSyntaxTree(helpers, helpers.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(Unrelated.Replace("x * 2", "x + x"))));
        var (run, _) = GeneratorHarness.Run(edited, driver);

        // The transform read both methods again, and what their formulas see compared equal...
        var inputs = Step(run, TrackingNames.FormulaInputs);
        Assert.Equal(2, inputs.Length);
        Assert.All(inputs, o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        // ...so neither formula was parsed, checked or lowered again: Cached, not re-run (Unchanged).
        var formulas = Step(run, TrackingNames.Formulas);
        Assert.Equal(2, formulas.Length);
        Assert.All(formulas, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        // Nor were the diagnostics decided again: only reporting them meets the new compilation.
        Assert.Equal(IncrementalStepRunReason.Cached, Assert.Single(Step(run, TrackingNames.Diagnostics)).Reason);
    }

    [Theory]
    [InlineData("formula")]
    [InlineData("a term's signature")]
    [InlineData("a member's type")]
    public void AnEditThatTheFormulaSeesCompilesItAgain(string edit)
    {
        string before = Parameterized("Second", "Total = Hard + Alpha * Soft");
        string after = edit switch
        {
            "formula" => Parameterized("Second", "Total = Hard + Alpha * Soft * 3"),
            "a term's signature" => Parameterized("Second", "Total = Hard + Alpha * Soft", soft: "Soft(Tensor y, Tensor x)"),
            "a member's type" => Parameterized("Second", "Total = Hard + Alpha * Soft", member: "public Tensor Alpha { get; set; } = torch.tensor(0.5);"),
            _ => throw new System.ArgumentOutOfRangeException(nameof(edit)),
        };
        CSharpCompilation first = GeneratorHarness.Compilation(Parameterized("First", "Total = Hard + Alpha * Soft"), before);
        var (original, driver) = GeneratorHarness.Run(first, GeneratorHarness.Driver());

        SyntaxTree second = first.SyntaxTrees.Last();
        var (run, _) = GeneratorHarness.Run(first.ReplaceSyntaxTree(second, CSharpSyntaxTree.ParseText(after, GeneratorHarness.ParseOptions, second.FilePath)), driver);

        Assert.Empty(run.Errors);
        // The edited method's formula is compiled again and gives another plan; the other one is not touched.
        var formulas = Step(run, TrackingNames.Formulas);
        Assert.Equal(2, formulas.Length);
        Assert.Equal(IncrementalStepRunReason.Cached, formulas[0].Reason);
        Assert.Equal(IncrementalStepRunReason.Modified, formulas[1].Reason);
        const string hint = "Sample.Second.LossDsl.g.cs";
        Assert.NotEqual(original.Sources[hint], run.Sources[hint]);
        Assert.Equal(original.Sources["Sample.First.LossDsl.g.cs"], run.Sources["Sample.First.LossDsl.g.cs"]);
        Assert.Single(Outputs(run), o => o.Reason == IncrementalStepRunReason.Modified && Hint(o.Value) == hint);
    }

    [Fact]
    public void AnEditAboveAFormulaWithAnErrorMovesTheErrorWithoutCompilingItAgain()
    {
        string source = Parameterized("First", "Total = Hard + Sfot");
        CSharpCompilation first = GeneratorHarness.Compilation(source);
        var (before, driver) = GeneratorHarness.Run(first, GeneratorHarness.Driver());

        SyntaxTree tree = first.SyntaxTrees.Single();
        string moved = source.Replace("namespace Sample;", "namespace Sample;\n\n// a comment added above the loss\n");
        var (run, _) = GeneratorHarness.Run(first.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(moved, GeneratorHarness.ParseOptions, tree.FilePath)), driver);

        Assert.All(Step(run, TrackingNames.Formulas), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Diagnostic Error(GeneratorRun r) => r.GeneratorDiagnostics.Single(d => d.Id == "LD0103");
        Assert.Equal("Sfot", before.Underlined(Error(before)));
        Assert.Equal("Sfot", run.Underlined(Error(run)));
        Assert.Equal(Error(before).Location.GetLineSpan().StartLinePosition.Line + 3, Error(run).Location.GetLineSpan().StartLinePosition.Line);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void FormulaDiagnosticsCarryTheLineSpansOfTheirSource(string newline)
    {
        // Errors on the third line of a raw string formula (the first is its quotes), and an unused parameter of a formula without errors.
        string source = (GeneratorHarness.Usings + """""
            namespace Sample;

            public partial class Lines
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss(""""
                    Kd = Hard
                    Total = Hadr + Kd * Sfot
                    """")]
                public partial Tensor Compute(Tensor x, Tensor unused);

                [Loss(""""
                    Total = Hard
                    """")]
                public partial Tensor Other(Tensor x, Tensor unused);
            }
            """"").Replace("\r\n", "\n").Replace("\n", newline);
        CSharpCompilation input = GeneratorHarness.Compilation(source);
        var (run, _) = GeneratorHarness.Run(input, GeneratorHarness.Driver());

        var reports = Caching.Steps(run.Result)[TrackingNames.Reports].SelectMany(s => s.Outputs)
            .SelectMany(o => (LossDsl.Generators.Model.EquatableArray<LossDsl.Generators.Model.LossMethodReport>)o.Value).ToList();
        var located = reports.SelectMany(r => r.Diagnostics).Where(d => d.Location is not null).ToList();
        Assert.Contains(located, d => d.Id == "LD0103");
        Assert.Contains(located, d => d.Id == "LD0204");
        SyntaxTree tree = input.SyntaxTrees.Single();
        Assert.All(located, d => Assert.Equal(tree.GetLineSpan(d.Location!.Span).Span, d.Location.LineSpan));
        Assert.Equal(new[] { "Hadr", "Sfot", "unused" }, run.GeneratorDiagnostics.Select(run.Underlined).OrderBy(t => t, System.StringComparer.Ordinal));
    }

    /// <summary>The outputs of a tracked step, in the order of the [Loss] methods.</summary>
    private static (object Value, IncrementalStepRunReason Reason)[] Step(GeneratorRun run, string name)
        => Caching.Steps(run.Result)[name].SelectMany(s => s.Outputs).ToArray();

    /// <summary>The outputs of the last tracked step: one per loss type.</summary>
    private static (object Value, IncrementalStepRunReason Reason)[] Outputs(GeneratorRun run)
        => Caching.Steps(run.Result)[TrackingNames.LossTypes].SelectMany(s => s.Outputs).ToArray();

    private static string Hint(object spec) => ((LossDsl.Generators.Model.LossTypeSpec)spec).HintName;
}
