using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>How names, options and numbers of a formula are bound, and the messages when they cannot be.</summary>
public class FormulaBindingTests
{
    [Fact]
    public void MinAndMaxInEitherOrderAreCheckedWithoutCrashingTheGenerator()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Total = Hard + Balance(Soft, to: Hard, max: 1, min: 2)\""));

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0108", error.Id);
        Assert.Equal("Invalid Balance: its min: (2.0) is greater than its max: (1.0)", error.GetMessage());
        Assert.Equal("max: 1, min: 2", run.Underlined(error));
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Id == "CS8785"); // the generator did not throw
    }

    [Theory]
    [InlineData("epsilon", "eps")]
    [InlineData("target", "to")]
    [InlineData("maxx", "max")]
    public void AnUnknownBalanceOptionSuggestsTheRightOne(string written, string suggested)
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms($"\"Total = Hard + Balance(Soft, to: Hard, {written}: 3)\""));

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal($"Invalid Balance: it has no option '{written}'; did you mean '{suggested}'? Its options are to:, eps:, min:, max:, ema:, by: and stabilizer:.", error.GetMessage());
        Assert.Equal(written, run.Underlined(error));
    }

    [Fact]
    public void ANonAsciiDigitIsAnUnexpectedCharacter()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Total = Hard * １\""));

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("Formula syntax error: expected a number, a name or '(', but found the character '１'", error.GetMessage());
    }

    [Fact]
    public void ABindingThatUsesItselfSaysSo()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Total = Total + Hard\""));

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("Binding 'Total' is used before it is defined: a binding cannot use itself", error.GetMessage());
        Assert.Equal(new Microsoft.CodeAnalysis.Text.TextSpan(run.TextOf(error).ToString().IndexOf("= Total") + 2, 5), error.Location.SourceSpan);
    }

    [Fact]
    public void ALaterBindingUsedEarlyIsReportedWithTheFix()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"A = Hard + B; B = Soft; Total = A\""));

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("Binding 'B' is used before it is defined; move its definition above this line", error.GetMessage());
    }

    [Fact]
    public void ALiteralNumberBindingIsFoldedWithoutALocal()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"W = 0.25 * 2; Total = Hard + W * Soft\""));

        Assert.Empty(run.Errors);
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Contains("var total = hard.add(soft, 0.5);", run.Source);
        Assert.DoesNotContain("double w =", run.Source);
        Assert.Contains("Total = Hard + W * Soft", run.Source); // the explanation keeps the name
    }

    [Fact]
    public void ANumberBindingOfAHyperparameterIsComputedOnce()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"W = Alpha * weight; Total = Hard + W * Soft + W * Feature\""));

        Assert.Empty(run.Errors);
        Assert.Contains("double w = (this.Alpha * weight);", run.Source);
        Assert.Contains("var total = hard.add(soft, w).add(feature, w);", run.Source);
    }

    [Fact]
    public void TheSameBalancedExpressionIsComputedAndScaledOnce()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms(
            "\"A = Balance(Hard + Soft, to: Feature); B = Balance(Hard + Soft, to: Feature); Total = A + B\"", "SampleResult"));

        Assert.Empty(run.Errors);
        string source = run.Source;
        Assert.Single(source.Split('\n'), line => line.Contains("= hard.add(soft);"));
        Assert.Single(source.Split('\n'), line => line.Contains("LossRuntime.BalanceScale("));
        Assert.Contains("public global::TorchSharp.torch.Tensor BalanceScale => __LossDslValue(", source);
        Assert.DoesNotContain("BalanceInput", source);
        Assert.Contains("|sg(Feature)| / |sg((Hard + Soft))|", source);
    }

    [Fact]
    public void ABindingMayBeNamedLoss()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"Loss = Hard + Soft\"", "SampleResult"));

        Assert.Empty(run.Errors);
        Assert.Contains("public global::TorchSharp.torch.Tensor Loss => __LossDslValue(", run.Source);
        Assert.Contains("\"loss\"", run.Source);
    }

    [Fact]
    public void ATermParameterMatchesWhateverItsNullableAnnotation()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial class Masked
            {
                [Term] Tensor Hard(Tensor logits, Tensor labels, Tensor? mask) => Losses.CrossEntropy(logits, labels, mask: mask);

                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor logits, Tensor labels, Tensor mask);
            }
            """);

        Assert.Empty(run.Errors);
        Assert.Contains("this.Hard(logits, labels, mask)", run.Source);
    }

    [Fact]
    public void AMissingTermParameterIsNamedWithItsReadableType()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial class Missing
            {
                [Term] Tensor Feature(Tensor studentFeatures, long teacherFeatures) => studentFeatures.mean();

                [Loss("Total = Feature")]
                public partial Tensor Compute(Tensor studentFeatures, int teacherFeatures);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0201", error.Id);
        Assert.Equal("[Term] method 'Feature' needs the parameter 'long teacherFeatures', which the [Loss] method 'Compute' does not have (its 'teacherFeatures' has type 'int')", error.GetMessage());
        Assert.Equal("Feature", run.Underlined(error));
    }

    [Fact]
    public void ResultDocumentationResolvesForNestedGenericLossTypes()
    {
        var parse = GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);
        var source = GeneratorHarness.Usings + """
            namespace Sample;

            /// <summary>Outer.</summary>
            public partial class Outer<T>
            {
                /// <summary>Inner.</summary>
                public partial class Inner
                {
                    [Term] Tensor Hard(Tensor x) => x.mean();

                    /// <summary>Computes.</summary>
                    [Loss("Total = Hard")]
                    public partial InnerResult Compute(Tensor x);
                }
            }
            """;
        var compilation = GeneratorHarness.Compilation(source).WithOptions(GeneratorHarness.Compilation().Options)
            .RemoveAllSyntaxTrees().AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(source, parse, "Source0.cs"));
        var driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(new[] { new LossGenerator().AsSourceGenerator() }, parseOptions: parse);

        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out var diagnostics);

        Assert.Empty(diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        // The cref is the method's documentation ID, which the compiler writes as is: it names this method.
        const string id = "M:Sample.Outer`1.Inner.Compute(TorchSharp.torch.Tensor)";
        Assert.Contains($"/// The result of <see cref=\"{id}\"/>", output.SyntaxTrees.Last().ToString());
        ISymbol? method = DocumentationCommentId.GetFirstSymbolForDeclarationId(id, output);
        Assert.Equal("Compute", method?.Name);
        Assert.Equal("Inner", method?.ContainingType.Name);
    }
}
