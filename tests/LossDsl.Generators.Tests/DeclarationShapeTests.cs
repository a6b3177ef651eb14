using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Declaration shapes C# allows around a [Loss] method: each either works (the generated code
/// compiles with no error and no warning) or gets one clear LD error at the culprit, and the
/// generated files never hold an error. Each case once made the generator emit code that did not
/// compile, call the wrong method, or say nothing.
/// </summary>
public class DeclarationShapeTests
{
    private const string Terms = """
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
        """;

    [Theory]
    [InlineData("readonly partial struct", "Total = Hard + Balance(Soft, to: Hard, ema: 0.9)", "'Shape' is a struct")]
    [InlineData("readonly partial record struct", "Total = Dwa(Hard, Soft)", "'Shape' is a record struct")]
    [InlineData("partial interface", "Total = Dwa(Hard, Soft)", "'Shape' is an interface: an interface cannot hold the field that keeps the state")]
    [InlineData("partial interface", "Total = Balance(Hard, to: Soft, ema: 0.5)", "'Shape' is an interface")]
    public void StateInAReadonlyStructOrAnInterfaceIsReported(string keyword, string formula, string expected)
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public {{keyword}} Shape
            {
            {{Terms}}
                [Loss("{{formula}}")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0114", error.Id);
        Assert.Contains(expected, error.GetMessage());
        AssertNoErrorInGeneratedCode(run);
    }

    [Fact]
    public void AStatelessFormulaInAnInterfaceIsGenerated()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public partial interface IShape
            {
            {{Terms}}
                [Loss("Total = Hard + Balance(Soft, to: Hard)")]
                public partial ShapeResult Compute(Tensor x);
            }
            """);

        AssertClean(run);
    }

    [Fact]
    public void AnExtensionMethodKeepsItsThis()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public static partial class Extensions
            {
                [Term] static Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard * 2")]
                public static partial Tensor Compute(this Tensor x);
            }
            """);

        AssertClean(run);
        Assert.Contains("Compute(this global::TorchSharp.torch.Tensor x)", run.Source);
    }

    [Fact]
    public void ScopedParametersKeepTheirModifier()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public ref partial struct Spans
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard * w")]
                public partial Tensor Compute(Tensor x, double w, scoped System.ReadOnlySpan<int> unused);
            }
            """);

        Assert.Equal("LD0204", Assert.Single(run.GeneratorDiagnostics).Id); // 'unused' is unused: a warning
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Contains("scoped global::System.ReadOnlySpan<int> unused", run.Source);
    }

    [Fact]
    public void AnArglistMethodKeepsItsArglist()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial class Variadic
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x, __arglist);
            }
            """);

        AssertClean(run);
    }

    [Theory]
    [InlineData("ref Tensor")]
    [InlineData("ref readonly Tensor")]
    public void ARefReturnIsReported(string returnType)
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public partial class RefReturn
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial {{returnType}} Compute(Tensor x);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0004", error.Id);
        Assert.Equal(returnType, run.Underlined(error));
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning)); // the stub matches the ref return
    }

    [Fact]
    public void ARefReturnOfATypeThatDoesNotExistLeavesTheCompilersErrorInTheUsersCodeOnly()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public partial class RefResult
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial ref RefResultValues Compute(Tensor x);
            }
            """);

        Assert.Equal("LD0004", Assert.Single(run.GeneratorDiagnostics).Id);
        AssertNoErrorInGeneratedCode(run);
    }

    [Fact]
    public void VariantInterfacesKeepTheirVariance()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial interface IProducer<out T>
            {
                [Term] static Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public static partial ProducerResult Compute(Tensor x);

                public partial interface IInner
                {
                    [Term] static Tensor Soft(Tensor x) => x.abs().mean();

                    [Loss("Total = Soft")]
                    public static partial Tensor Compute(Tensor x);
                }
            }

            public partial interface IConsumer<in T, U>
            {
                [Term] static Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public static partial Tensor Compute(Tensor x);
            }
            """);

        AssertClean(run);
        Assert.Contains("partial interface IProducer<out T>", run.Sources.Single(s => s.Key.Contains("IProducer`1.LossDsl")).Value);
        Assert.Contains("partial interface IConsumer<in T, U>", run.Sources.Single(s => s.Key.Contains("IConsumer")).Value);
        // The cref is the method's documentation ID, which carries no variance.
        Assert.Matches(@"<see cref=""M:[\w.]*IProducer`1\.Compute\(", run.Sources.Single(s => s.Key.Contains("IProducer`1.LossDsl")).Value);
    }

    [Theory]
    [InlineData(@"a\u2028b/")]
    [InlineData(@"a\u2029b/")]
    [InlineData(@"a\u0085b/")]
    [InlineData(@"a\rb\nc/")]
    [InlineData(@"a\0b\u0007c/")]
    [InlineData(@"a\uD800b/")]
    public void AMetricsPrefixWithAnyLineBreakOrControlCharacterStaysInsideItsComment(string prefix)
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.ThreeTerms($"\"Kd = Hard + Soft; Total = Kd + weight * Balance(Feature, to: Soft)\", MetricsPrefix = \"{prefix}\"", "Result"));

        AssertClean(run);
        // The doc comment shows the character as the metric key's literal does.
        string escaped = prefix.Replace(@"\r", @"\u000D").Replace(@"\n", @"\u000A").Replace(@"\0", @"\u0000").Replace(@"\u0007", @"\u0007");
        Assert.Contains($"Metric key <c>{escaped}total</c>", run.Source);
    }

    [Fact]
    public void AFieldNamedLikeTheStateFieldIsReported()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public partial class StateField
            {
                private readonly int __lossDslComputeState = 1;
                public int Read() => __lossDslComputeState;
            {{Terms}}
                [Loss("Total = Dwa(Hard, Soft)")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0008", error.Id);
        Assert.Equal("[Loss] method 'Compute' needs the member name '__lossDslComputeState' for its state, but 'StateField' already uses it; rename the method or the member", error.GetMessage());
        Assert.Equal("Compute", run.Underlined(error));
        AssertNoErrorInGeneratedCode(run);
    }

    [Theory]
    [InlineData("ComputeExplanation", "Total = Hard + Soft", "the type 'ComputeExplanation' itself")]
    [InlineData("ComputeState", "Total = Dwa(Hard, Soft)", "the type 'ComputeState' itself")]
    [InlineData("Generic<ComputeExplanation>", "Total = Hard + Soft", "a type parameter of 'Generic'")]
    public void ATypeOrTypeParameterNamedLikeAGeneratedMemberIsReported(string type, string formula, string holder)
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public partial class {{type}}
            {
            {{Terms}}
                [Loss("{{formula}}")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0008", error.Id);
        Assert.Contains($"but {holder} already uses it", error.GetMessage());
        AssertNoErrorInGeneratedCode(run);
    }

    [Theory]
    [InlineData("scoped")]
    [InlineData("@scoped")]
    [InlineData("@required")]
    [InlineData("@file")]
    [InlineData("@record")]
    [InlineData("@var")]
    [InlineData("@partial")]
    [InlineData("@extension")]
    public void AResultTypeNamedWithAContextualKeywordIsReported(string name)
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace Keywords;

            public partial class Named
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial {{name}} Compute(Tensor x);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0013", error.Id);
        Assert.Equal($"[Loss] method 'Compute' returns '{name.TrimStart('@')}', a contextual keyword of C#, which cannot name a type; give the result type another name", error.GetMessage());
        Assert.Equal(name, run.Underlined(error));
        AssertNoErrorInGeneratedCode(run);
    }

    [Theory]
    [InlineData("System", "System")]
    [InlineData("TorchSharp", "TorchSharp")]
    [InlineData("Training", "Training")]
    [InlineData("Data", "Training.Data")]
    public void AResultTypeNamedLikeANamespaceIsReported(string name, string hidden)
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            namespace Training.Data { public static class Batches { public const int Size = 8; } }

            namespace Training
            {
                using M = System.Math;

                public partial class Named
                {
                    public double Alpha { get; set; } = M.PI * Data.Batches.Size;
            {{Terms}}
                    [Loss("Total = Hard + Alpha * Soft")]
                    public partial {{name}} Compute(Tensor x);
                }
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0013", error.Id);
        Assert.Equal($"[Loss] method 'Compute' returns '{name}', the name of the namespace '{hidden}', which a type of that name in 'Training' would hide from the code there; give the result type another name", error.GetMessage());
        AssertNoErrorInGeneratedCode(run);
    }

    [Fact]
    public void AResultTypeNamedSystemInTheGlobalNamespaceIsReported()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public partial class Named
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial System Compute(Tensor x);
            }
            """);

        Assert.Equal("LD0013", Assert.Single(run.GeneratorDiagnostics).Id);
        AssertNoErrorInGeneratedCode(run);
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Id == "CS0437"); // no type 'System' beside the namespace
    }

    [Fact]
    public void ATermHiddenByANewHelperIsStillTheOneCalled()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public class Base
            {
                [Term] public Tensor Hard(Tensor x) => x.mean();
                [Term] public static Tensor Soft(Tensor x) => x.abs().mean();
                [Term] protected Tensor Feature(Tensor x) => x.pow(2).mean();
            }

            public partial class Derived : Base
            {
                public new Tensor Hard(Tensor x) => x.sum() * 1000;
                public new Tensor Soft(Tensor x) => x.sum() * 1000;
                public new Tensor Feature(Tensor x) => x.sum() * 1000;

                [Loss("Total = Hard + Soft + Feature")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        AssertClean(run);
        Assert.Contains("((global::Base)this).Hard(x)", run.Source);
        Assert.Contains("global::Base.Soft(x)", run.Source);
        Assert.Contains("base.Feature(x)", run.Source); // protected: not reachable through a cast
        AssertCallsResolveTo(run, "Base.Hard", "Base.Soft", "Base.Feature");
    }

    [Fact]
    public void AnOverriddenTermIsCalledVirtually()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public class Base
            {
                [Term] public virtual Tensor Hard(Tensor x) => x.mean();
            }

            public partial class Derived : Base
            {
                public override Tensor Hard(Tensor x) => x.abs().mean();

                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        AssertClean(run);
        Assert.Contains("this.Hard(x)", run.Source);
    }

    [Fact]
    public void AProtectedTermHiddenBetweenItsTypeAndTheLossTypeIsReported()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public class Base
            {
                [Term] protected Tensor Hard(Tensor x) => x.mean();
            }

            public class Middle : Base
            {
                public new Tensor Hard(Tensor x) => x.sum() * 1000;
            }

            public partial class Derived : Middle
            {
                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0201", error.Id);
        Assert.Equal("[Term] method 'Hard' of 'Base' is hidden by 'Middle.Hard' and is protected, so the code generated into 'Derived' cannot reach it; rename one of them", error.GetMessage());
        Assert.Equal("Hard", run.Underlined(error));
        AssertNoErrorInGeneratedCode(run);
    }

    [Fact]
    public void AMemberHiddenByAMethodIsStillTheOneRead()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public class Base
            {
                public Tensor Prior { get; } = torch.tensor(2.0);
                public double Alpha => 0.5;
            }

            public partial class Derived : Base
            {
                public new Tensor Prior() => torch.tensor(5.0);
                public new int Alpha() => 3;

                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard * Prior * Alpha")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        AssertClean(run);
        Assert.Contains("((global::Base)this).Prior", run.Source);
        Assert.Contains("((global::Base)this).Alpha", run.Source);
    }

    [Fact]
    public void StaticAbstractInterfaceTermsAndMembersAreReported()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public partial interface IAbstractTerm
            {
                [Term] static abstract Tensor Hard(Tensor x);

                [Loss("Total = Hard")]
                public static partial Tensor Compute(Tensor x);
            }

            public partial interface IAbstractMember
            {
                static abstract double Alpha { get; }
                [Term] static Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard * Alpha")]
                public static partial Tensor Compute(Tensor x);
            }
            """);

        Assert.Collection(run.GeneratorDiagnostics.OrderBy(d => d.Id),
            term =>
            {
                Assert.Equal("LD0201", term.Id);
                Assert.Equal("[Term] method 'Hard' is a static abstract interface member, which C# lets code reach only through a type parameter", term.GetMessage());
            },
            member =>
            {
                Assert.Equal("LD0205", member.Id);
                Assert.Equal("Member 'Alpha' is a static abstract interface member, which C# lets code reach only through a type parameter", member.GetMessage());
                Assert.Equal("Alpha", run.Underlined(member));
            });
        AssertNoErrorInGeneratedCode(run);
    }

    [Fact]
    public void LossOnAnOperatorOrAccessorIsReportedAndTheMethodAfterItIsGenerated()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public partial class Misplaced
            {
            {{Terms}}
                [Loss("Total = Hard")]
                public static Misplaced operator +(Misplaced a, Misplaced b) => a;

                public int Size { [Loss("Total = Soft")] get => 1; }

                [Loss("Total = Hard")]
                public static explicit operator int(Misplaced loss) => 0;

                [Loss("Total = Hard + Soft")]
                public partial MisplacedResult Compute(Tensor x);
            }
            """);

        Assert.Equal(
            new[]
            {
                "[Loss] is on the operator 'Misplaced.operator +(Misplaced, Misplaced)', which LossDsl cannot implement; put [Loss] on a partial method",
                "[Loss] is on the accessor 'Misplaced.Size.get', which LossDsl cannot implement; put [Loss] on a partial method",
                "[Loss] is on the conversion operator 'Misplaced.explicit operator int(Misplaced)', which LossDsl cannot implement; put [Loss] on a partial method",
            },
            run.GeneratorDiagnostics.Select(d => d.GetMessage()));
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal(("LD0012", "Loss"), (d.Id, run.Underlined(d))));
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Contains("public partial global::MisplacedResult Compute(global::TorchSharp.torch.Tensor x)", run.Source);
    }

    [Fact]
    public void LossOnALocalFunctionOrLambdaIsReported()
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            public partial class Local
            {
            {{Terms}}
                public System.Func<Tensor, Tensor> Make()
                {
                    [Loss("Total = Hard")] static Tensor Inner(Tensor x) => x;
                    return [Loss("Total = Hard")] (Tensor x) => Inner(x);
                }

                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Assert.Equal(
            new[]
            {
                "[Loss] is on the local function 'Inner(TorchSharp.torch.Tensor)', which LossDsl cannot implement; put [Loss] on a partial method",
                "[Loss] is on the lambda '(Tensor x) => …', which LossDsl cannot implement; put [Loss] on a partial method",
            },
            run.GeneratorDiagnostics.Select(d => d.GetMessage()));
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Theory]
    [InlineData("[Other.Loss(\"Total = Hadr\")]\n    [Loss(\"Total = Hadr\")]")]
    [InlineData("[Loss(\"Total = Hadr\")]\n    [Other.Loss(\"Total = Hadr\")]")]
    public void ASecondAttributeNamedLossDoesNotMoveTheLocation(string attributes)
    {
        string source = $$"""
            namespace Other { [System.AttributeUsage(System.AttributeTargets.Method)] public sealed class LossAttribute(string formula) : System.Attribute { public string Formula { get; } = formula; } }

            public partial class Twice
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                {{attributes}}
                public partial Tensor Compute(Tensor x);
            }
            """;
        GeneratorRun run = GeneratorHarness.Run(source);

        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0103", error.Id);
        string line = run.TextOf(error).Lines[error.Location.GetLineSpan().StartLinePosition.Line].ToString();
        Assert.StartsWith("    [Loss(", line);
        Assert.Equal("Hadr", run.Underlined(error));
    }

    [Fact]
    public void AnAttributeOfTheUsersOwnNamedLossIsLeftAlone()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace Other { public sealed class LossAttribute(string name) : System.Attribute { public string Name { get; } = name; } }

            public partial class Own
            {
                [Other.Loss("mine")]
                public partial Tensor Compute(Tensor x);
                public partial Tensor Compute(Tensor x) => x;

                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial Tensor Evaluate(Tensor x);
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.Errors);
    }

    [Fact]
    public void ANestedTypeAndANamespaceOfTheSameDottedNameGetDistinctFiles()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace N
            {
                public partial class A
                {
                    public partial class B { [Term] Tensor Hard(Tensor x) => x.mean(); [Loss("Total = Hard")] public partial Tensor Compute(Tensor x); }
                }
            }

            namespace N.A2
            {
                public partial class B { [Term] Tensor Hard(Tensor x) => x.mean(); [Loss("Total = Hard")] public partial Tensor Compute(Tensor x); }
            }

            namespace N.a
            {
                public partial class B { [Term] Tensor Hard(Tensor x) => x.mean(); [Loss("Total = Hard * 2")] public partial Tensor Compute(Tensor x); }
            }
            """);

        Assert.Empty(run.Errors);
        Assert.Equal(3, run.Sources.Count);
        Assert.Equal(3, run.Sources.Keys.Select(k => k.ToUpperInvariant()).Distinct().Count()); // unique even on a case-insensitive file system
    }

    private static void AssertClean(GeneratorRun run)
    {
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    private static void AssertNoErrorInGeneratedCode(GeneratorRun run)
    {
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Id == "CS8785");
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs") == true);
    }

    /// <summary>Binds every term call of the generated method and checks which method each one calls.</summary>
    private static void AssertCallsResolveTo(GeneratorRun run, params string[] methods)
    {
        SyntaxTree generated = run.Output.SyntaxTrees.Single(t => t.FilePath.EndsWith(".g.cs"));
        SemanticModel model = run.Output.GetSemanticModel(generated);
        var called = generated.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>()
            .Select(i => model.GetSymbolInfo(i).Symbol as IMethodSymbol)
            .Where(m => m is not null && m.ReturnType.Name == "Tensor" && m.ContainingType.Name is "Base" or "Derived")
            .Select(m => $"{m!.ContainingType.Name}.{m.Name}");
        Assert.Equal(methods, called);
    }
}
