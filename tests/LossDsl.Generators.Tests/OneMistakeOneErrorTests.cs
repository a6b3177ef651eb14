using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Mistakes users make in a declaration, each of which must read as exactly one clear error:
/// every test builds the user's project through the driver and asserts the complete list of
/// diagnostics, the generator's and the compiler's (warnings included).
/// </summary>
public class OneMistakeOneErrorTests
{
    private const string Terms = """
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
        """;

    [Fact]
    public void AFileLocalLossTypeIsReportedOnceBesideTheCompilersOwnError()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            file partial class Hidden
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial HiddenResult Compute(Tensor x);

                public double Use() => Compute(null!).Metrics().Count;
            }
            """);

        // C# gives no way to implement a file-local type's partial method from another file, so
        // the compiler's CS8795 is unavoidable; LD0009 says why and what to do. The result type
        // is still generated, so its uses compile.
        AssertDiagnostics(run,
            "LD0009 Type 'Hidden' is file-local, so LossDsl cannot implement its [Loss] method 'Compute' (generated code is another file); remove 'file' and hide the type by nesting it or making it internal",
            "CS8795");
    }

    [Fact]
    public void ALossMethodWithoutAccessibilityGetsOnlyTheCompilersError()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            public partial class NoAccess
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                partial NoAccessResult Compute(Tensor x);
            }
            """);

        // CS8796 says exactly what to add; generated code would only repeat it. The result type is
        // still generated, so its uses compile.
        AssertDiagnostics(run, "CS8796");
    }

    [Fact]
    public void TwoLossClassesNamingOneResultTypeGetOneError()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            public partial class First
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial LossResult Compute(Tensor x);
            }

            public partial class Second
            {
            {{Terms}}
                [Loss("Total = Hard * Soft")]
                public partial LossResult Compute(Tensor x);

                public double Use() => Compute(null!).Metrics().Count;
            }
            """);

        AssertDiagnostics(run, "LD0007 [Loss] method 'Compute' returns 'LossResult', which LossDsl already generates for 'First.Compute'; give each [Loss] method its own result type");
    }

    [Fact]
    public void AResultTypeClaimedByATypeThatIsNotPartialIsStillClaimed()
    {
        // The type that cannot take code still generates its result type, so the second claimer
        // gets LD0007 (the stub and the report decide alike).
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            public class First
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial LossResult Compute(Tensor x);
            }

            public partial class Second
            {
            {{Terms}}
                [Loss("Total = Hard * Soft")]
                public partial LossResult Compute(Tensor x);
            }
            """);

        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "LD0007" && d.GetMessage().Contains("'First.Compute'"));
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Id == "CS0246");
    }

    [Fact]
    public void BalancingAnAliasToWhatItRenamesIsAnError()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"S = Soft\\nTotal = Hard + Balance(S, to: Soft) + Feature\""));

        AssertDiagnostics(run, "LD0108 Invalid Balance: 'S' and 'Soft' are the same value (a binding that only renames another is the same value), so the scale would always be 1");
    }

    [Theory]
    [InlineData("struct", "a struct is copied on assignment and by readonly access, so statistics would be lost in the copies")]
    [InlineData("record struct", "a struct is copied on assignment and by readonly access, so statistics would be lost in the copies")]
    [InlineData("record", "a 'with' expression copies the reference to the state, so copies would share one set of statistics")]
    public void AStatefulFormulaInAStructOrRecordIsAnError(string kind, string why)
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            public partial {{kind}} Holder
            {
            {{Terms}}
                [Loss("Total = Uncertainty(Hard, Soft)")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        AssertDiagnostics(run, $"LD0114 [Loss] method 'Compute' uses Uncertainty, which keeps state, but 'Holder' is a {kind}: {why}; declare 'Holder' as a class");
    }

    [Fact]
    public void AStatelessFormulaInAStructStillWorks()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            public partial struct Holder
            {
            {{Terms}}
                [Loss("Total = Hard + Balance(Soft, to: Hard)")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        AssertDiagnostics(run);
    }

    [Fact]
    public void ACycleBetweenBindingsIsReportedAsACycle()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"A = B + Hard\\nB = C * 2\\nC = A + Soft\\nTotal = A + Feature\""));

        AssertDiagnostics(run, "LD0113 Binding 'A' depends on itself through 'B' (A → B → C → A); a binding can use only bindings defined above it");
    }

    [Fact]
    public void AForwardReferenceWithoutACycleIsStillUsedBeforeDefined()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms("\"A = B + Hard\\nB = Soft * 2\\nTotal = A + Feature\""));

        AssertDiagnostics(run, "LD0106 Binding 'B' is used before it is defined; move its definition above this line");
    }

    [Fact]
    public void GeneratedCopiesCompiledAsSourceAreOneErrorPerType()
    {
        string loss = GeneratorHarness.Usings + $$"""
            namespace N;

            public partial class Copied
            {
            {{Terms}}
                [Loss("Total = Hard + Balance(Soft, to: Hard)")]
                public partial CopiedResult Compute(Tensor x);
            }
            """;
        // The first build writes the copy (EmitCompilerGeneratedFiles); the second compiles it as
        // source because <Compile Remove="Generated/**" /> was left out.
        var (first, _) = GeneratorHarness.Run(GeneratorHarness.Compilation(loss), GeneratorHarness.Driver());
        string copyPath = "/project/Generated/LossDsl.Generators/LossDsl.Generators.LossGenerator/N.Copied.LossDsl.g.cs";
        CSharpCompilation second = GeneratorHarness.Compilation(loss)
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText(first.Sources.Single().Value, GeneratorHarness.ParseOptions, copyPath));
        var (run, _) = GeneratorHarness.Run(second, GeneratorHarness.Driver());

        Assert.Empty(run.Sources);
        AssertDiagnostics(run, $"LD0010 '{copyPath}' is a copy of LossDsl's generated code for 'Copied' and is compiled as source, so LossDsl generates nothing for 'Copied'; exclude the copies from compilation with <Compile Remove=\"Generated/**\" />");
    }

    [Fact]
    public void AUserImplementationOfTheLossMethodIsReportedAndNotImplementedAgain()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            public partial class HandWritten
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);

                public partial Tensor Compute(Tensor x) => Hard(x);
            }
            """);

        AssertDiagnostics(run, "LD0002 [Loss] method 'Compute' must be a partial declaration without a body: LossDsl writes its implementation");
    }

    [Fact]
    public void GeneratedCopiesOfATypeWithTwoLossesAreOneError()
    {
        string loss = GeneratorHarness.Usings + $$"""
            namespace N;

            public partial class Copied
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Train(Tensor x);

                [Loss("Total = Hard")]
                public partial Tensor Evaluate(Tensor x);
            }
            """;
        var (first, _) = GeneratorHarness.Run(GeneratorHarness.Compilation(loss), GeneratorHarness.Driver());
        CSharpCompilation second = GeneratorHarness.Compilation(loss)
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText(first.Sources.Single().Value, GeneratorHarness.ParseOptions, "Generated/N.Copied.LossDsl.g.cs"));
        var (run, _) = GeneratorHarness.Run(second, GeneratorHarness.Driver());

        AssertDiagnostics(run, "LD0010");
    }

    [Fact]
    public void LossWithoutUsingLossDslSaysToAddIt()
    {
        GeneratorRun run = GeneratorHarness.RunWithoutUsings("""
            using TorchSharp;
            using static TorchSharp.torch;

            namespace N;

            public partial class Forgotten
            {
                [LossDsl.Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial ForgottenResult Compute(Tensor x);
            }
            """);

        // 'using TorchSharp;' brings TorchSharp's own Loss<T1, T2, TResult>; the compiler's error about
        // it stands, LD0011 names the fix, and the stub keeps CS8795 and CS0246 away.
        AssertDiagnostics(run,
            "CS0305",
            "LD0011 'Loss' on [Loss] method 'Compute' resolves to 'TorchSharp.Loss<T1, T2, TResult>', not LossDsl's [Loss] attribute; add 'using LossDsl;' or write [LossDsl.Loss(...)]");
    }

    [Fact]
    public void ARenamedLossParameterSuggestsTheTermsName()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace N;

            public partial class Renamed
            {
                [Term] Tensor Hard(Tensor logits) => logits.mean();

                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor logit);
            }
            """);

        AssertDiagnostics(run, "LD0201 [Term] method 'Hard' needs the parameter 'TorchSharp.torch.Tensor logits', which the [Loss] method 'Compute' does not have; did you mean 'logit'? A term's parameters are matched to the [Loss] method's by name");
    }

    /// <summary>
    /// The complete list of diagnostics, in source order: each expected entry is an ID, or an ID
    /// and the exact message.
    /// </summary>
    [Fact]
    public void AFormulaErrorLeavesNumberBindingsDoublePropertiesOfTheStubResult()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            public partial class Scheduled
            {
                public int TotalSteps { get; set; } = 100;
            {{Terms}}
                [Loss("Alpha = Cosine(0.9, 0.1, TotalSteps)\nHalf = 0.5\nTotal = Hard + Alpha * Unknown")]
                public partial ScheduledResult Compute(Tensor x);

                public double Use() => Compute(null!).Alpha + Compute(null!).Total.item<double>();
            }
            """);

        // The stub's Alpha is a double, as in the result the fixed formula gets, so code using it
        // compiles; Half, a literal, is no property there either.
        AssertDiagnostics(run, "LD0103");
        Assert.Contains("public double Alpha => throw", run.Source);
        Assert.DoesNotContain(" Half ", run.Source);
    }

    [Theory]
    [InlineData("W = Linear(0, 1, 0)", "LD0111")]
    [InlineData("W = Piecewise(1, 2)", "LD0111")]
    [InlineData("W = Linear(0, 1, 10, foo: 1)", "LD0111")]
    [InlineData("W = Clamp(Alpha, 2, 1)", "LD0115")]
    [InlineData("W = Alpha * Clamp(Alpha, 3, 1)", "LD0115")]
    public void AFailedNumberCallLeavesItsBindingADoublePropertyOfTheStubResult(string binding, string id)
    {
        // Regression: the stub typed W as a Tensor, so 'double w = r.W' added CS0266 to the LD error.
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace N;

            public partial class Scheduled
            {
                public double Alpha { get; set; } = 0.5;
            {{Terms}}
                [Loss("{{binding}}\nTotal = Hard * W")]
                public partial ScheduledResult Compute(Tensor x);

                public double Use() => Compute(null!).W;
            }
            """);

        AssertDiagnostics(run, id);
        Assert.Contains("public double W => throw", run.Source);
    }

    [Fact]
    public void AListBindingOfAnInvalidListTermStaysAListPropertyOfTheStubResult()
    {
        // Regression: 'S = 2 * Bad' with Bad an invalid list term was a Tensor property: r.S.Count was CS1061.
        GeneratorRun run = GeneratorHarness.Run("""
            namespace N;

            public partial class Layered
            {
                [Term] Tensor Hard(Tensor x) => x.mean();
                [Term] Tensor[] Bad(Tensor x, int k) => new[] { x.mean() };

                [Loss("S = 2 * Bad\nTotal = Hard + Sum(S)")]
                public partial LayeredResult Compute(Tensor x);

                public int Use() => Compute(null!).S.Count;
            }
            """);

        AssertDiagnostics(run, "LD0201");
    }

    private static void AssertDiagnostics(GeneratorRun run, params string[] expected)
    {
        var actual = run.GeneratorDiagnostics.Concat(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning))
            .OrderBy(d => d.Location.SourceSpan.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToList();
        string Describe(Diagnostic d) => $"{d.Id} {d.GetMessage()}";
        Assert.True(actual.Count == expected.Length && actual.Zip(expected, (d, e) => e.Contains(' ') ? Describe(d) == e : d.Id == e).All(ok => ok),
            $"expected:\n  {string.Join("\n  ", expected)}\nactual:\n  {string.Join("\n  ", actual.Select(d => $"{Describe(d)} @ {d.Location.GetLineSpan()}"))}");
    }
}
