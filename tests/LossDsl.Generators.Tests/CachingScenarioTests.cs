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

    /// <summary>The outputs of the last tracked step: one per loss type.</summary>
    private static (object Value, IncrementalStepRunReason Reason)[] Outputs(GeneratorRun run)
        => Caching.Steps(run.Result)[TrackingNames.LossTypes].SelectMany(s => s.Outputs).ToArray();

    private static string Hint(object spec) => ((LossDsl.Generators.Model.LossTypeSpec)spec).HintName;
}
