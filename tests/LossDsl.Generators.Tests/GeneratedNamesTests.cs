using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Names the generator writes (files, members, locals, metric keys) for declaration shapes that
/// could clash or be illegal: names differing only by case, generic nesting, keywords,
/// overloads, members that take a generated name. Each case once crashed the generator or made
/// it emit code that did not compile.
/// </summary>
public class GeneratedNamesTests
{
    [Fact]
    public void TypesWhoseNamesDifferOnlyByCaseBothGetTheirCode()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace N;

            public partial class Loss { [Term] Tensor Hard(Tensor x) => x.mean(); [Loss("Total = Hard")] public partial Tensor Compute(Tensor x); }
            public partial class LOSS { [Term] Tensor Hard(Tensor x) => x.mean(); [Loss("Total = Hard * 2")] public partial Tensor Compute(Tensor x); }
            """);

        Assert.Empty(run.Errors);
        Assert.Equal(2, run.Sources.Count);
    }

    [Fact]
    public void NestedGenericTypesWithTheSameTotalArityGetDistinctFiles()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace N;

            public partial class Outer<T> { public partial class Inner { [Term] Tensor Hard(Tensor x) => x.mean(); [Loss("Total = Hard")] public partial Tensor Compute(Tensor x); } }
            public partial class Outer { public partial class Inner<U> { [Term] Tensor Hard(Tensor x) => x.mean(); [Loss("Total = Hard")] public partial Tensor Compute(Tensor x); } }
            """);

        Assert.Empty(run.Errors);
        Assert.Equal(new[] { "N.Outer.Inner`1.LossDsl.g.cs", "N.Outer`1.Inner.LossDsl.g.cs" }, run.Sources.Keys.OrderBy(k => k));
    }

    [Fact]
    public void KeywordNamesAreEscaped()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace N;

            public partial class @event
            {
                [Term] Tensor @checked(Tensor @class) => @class.mean();

                [Loss("Class = checked * 2; Total = Class + checked")]
                public partial @fixed @lock(Tensor @class);
            }
            """);

        Assert.Empty(run.Errors);
        Assert.Contains("this.@checked(@class)", run.Source);
    }

    [Fact]
    public void ABindingStartingWithAnUnderscoreIsStoredInItsProperty()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"_kd = Hard + Soft; Total = _kd * 2\"", "Result"));

        Assert.Empty(run.Errors);
        Assert.Contains("public global::TorchSharp.torch.Tensor _kd => __LossDslValue(", run.Source);
        Assert.Matches(@"__lossDslValues = new global::TorchSharp\.torch\.Tensor\[\] \{ [^}]*\b_kd\b", run.Source);
    }

    [Fact]
    public void AParamsParameterKeepsItsModifier()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial class Weighted
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x, params double[] unused);
            }
            """);

        Assert.Empty(run.Errors);
        Assert.Contains("params double[] unused", run.Source);
    }

    [Fact]
    public void AMetricsPrefixWithALineBreakStaysInsideItsComment()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.Features("Total = Hard", options: ", MetricsPrefix = \"a\\nb/\""));

        Assert.Empty(run.Errors);
    }

    [Fact]
    public void MetricKeysStayDistinctWhenNamesDifferOnlyByCase()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Kd = Hard + Soft; KD = Kd * 2; Total = KD + Kd\"", "Result"));

        Assert.Empty(run.Errors);
        Assert.Contains("\"total\", \"hard\", \"soft\", \"kd\", \"kd2\"", run.Source);
    }

    [Fact]
    public void ABindingNamedLikeTheResultTypeGetsAnotherPropertyName()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Result = Hard + Soft; Total = Result\"", "Result"));

        Assert.Empty(run.Errors);
        Assert.Contains("public global::TorchSharp.torch.Tensor Result2 => __LossDslValue(", run.Source);
    }

    [Fact]
    public void OverloadedLossMethodsAreReported()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial class Overloaded
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x);

                [Loss("Total = Hard * 2")]
                public partial Tensor Compute(Tensor x, Tensor y);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "LD0008");
        Assert.Equal("[Loss] method 'Compute' needs the member name 'ComputeExplanation' for its explanation text, but another [Loss] method named 'Compute' already uses it; rename the method or the member", error.GetMessage());
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree?.FilePath.EndsWith(".g.cs") == true);
    }

    [Fact]
    public void AUserMemberNamedLikeTheStateIsReported()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial class Clash
            {
                public int ComputeState { get; set; }
                [Term] Tensor Hard(Tensor x) => x.mean();
                [Term] Tensor Soft(Tensor x) => x.abs().mean();

                [Loss("Total = Uncertainty(Hard, Soft)")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "LD0008");
        Assert.Contains("'ComputeState' for its state, but 'Clash' already uses it", error.GetMessage());
    }

    [Fact]
    public void ANamespaceWithAnEscapedKeywordGetsALegalFileName()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace Training.@event;

            public partial class Loss { [Term] Tensor Hard(Tensor x) => x.mean(); [Loss("Total = Hard")] public partial LossResult Compute(Tensor x); }
            """);

        Assert.Empty(run.Errors);
        Assert.Equal("Training.event.Loss.LossDsl.g.cs", Assert.Single(run.Sources).Key);
    }

    [Fact]
    public void TheSkippedUpdatesCountTakesNoNameOfTheFormulaOrOfAParameter()
    {
        // A binding named SkippedUpdates and a parameter named call keep their names: the count
        // and the call's scope take the next free ones.
        GeneratorRun run = GeneratorHarness.Run("""
            namespace N;

            public partial class Named
            {
                [Term] Tensor Hard(Tensor x) => x.mean();
                [Term] Tensor Soft(Tensor x) => x.abs().mean();

                [Loss("SkippedUpdates = Hard * 2; Total = SkippedUpdates + CoV(Hard, Soft)")]
                public partial NamedResult Compute(Tensor x, Tensor call);
            }
            """);

        Assert.Empty(run.Errors);
        Assert.Contains("public global::TorchSharp.torch.Tensor SkippedUpdates => __LossDslValue(", run.Source);
        Assert.Contains("public global::TorchSharp.torch.Tensor SkippedUpdates2 => __LossDslValue(", run.Source);
        Assert.Contains("\"skipped_updates\", ", run.Source);
        Assert.Contains("\"skipped_updates2\" }", run.Source);
        Assert.Contains("using (var call2 = this.ComputeState.BeginCall())", run.Source);
    }

    [Fact]
    public void OnlyAFormulaWithStatisticsReportsSkippedUpdates()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Total = Uncertainty(Hard, Soft) + Linear(1, 0, 10) * Feature\"", "Result"));

        Assert.Empty(run.Errors);
        Assert.Contains("BeginCall()", run.Source);
        Assert.DoesNotContain("SkippedUpdates", run.Source);
    }
}
