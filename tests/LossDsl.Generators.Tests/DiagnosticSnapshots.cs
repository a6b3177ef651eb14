using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// One snapshot per diagnostic: the message, severity and the underlined source line, as the
/// user sees them. A formula with errors generates nothing, so the generated code never adds
/// errors of its own.
/// </summary>
public class DiagnosticSnapshots
{
    private const string Terms = """
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
        """;

    public static TheoryData<string, string> Cases => new()
    {
        { "LD0001", $$"""
            public class NotPartial
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0002", $$"""
            public partial class HasBody
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public Tensor Compute(Tensor x) => x;
            }
            """ },
        { "LD0003", $$"""
            public partial class GenericMethod
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute<T>(Tensor x);
            }
            """ },
        { "LD0004", $$"""
            public partial class WrongReturn
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial double Compute(Tensor x);
            }
            """ },
        { "LD0005", $$"""
            public partial class StaticLoss
            {
                public double Alpha { get; set; } = 0.5;
            {{Terms}}
                [Loss("Total = Hard + Alpha * Soft")]
                public static partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0006", $$"""
            public partial class ByReference
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(ref Tensor x);
            }
            """ },
        { "LD0007", $$"""
            public partial class SharedResult
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial LossResult Train(Tensor x);

                [Loss("Total = Hard")]
                public partial LossResult Evaluate(Tensor x);
            }
            """ },
        { "LD0008", $$"""
            public partial class Taken
            {
                public const string ComputeExplanation = "mine";
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0009", $$"""
            file partial class FileLocal
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0011", """
            public partial class Forgotten
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [TorchSharp.Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0012", $$"""
            public partial class OnOperator
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public static OnOperator operator +(OnOperator a, OnOperator b) => a;

                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0013", $$"""
            public partial class NamespaceName
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial System Compute(Tensor x);
            }
            """ },
        { "LD0101", ThreeTerms("Kd = Soft + * Hard\nTotal = Hard + Kd") },
        { "LD0102", ThreeTerms("// nothing yet") },
        { "LD0103", ThreeTerms("Total = Hard + Sfot") },
        { "LD0104", ThreeTerms("Kd = Soft\nKd = Hard\nTotal = Kd") },
        { "LD0105", $$"""
            public partial class Ambiguous
            {
                public double Hard { get; set; }
                [Term] Tensor Soft(Tensor x) => x.abs().mean();

                [Loss("Total = Soft * Hard")]
                public partial Tensor Compute(Tensor x, double Hard);
            }
            """ },
        { "LD0106", ThreeTerms("Total = Hard + Kd\nKd = Soft") },
        { "LD0107", ThreeTerms("Total = Hard + Softmax(Soft)") },
        { "LD0108", ThreeTerms("Total = Hard + Balance(Soft)") },
        { "LD0109", ThreeTerms("Total = 2 * 3") },
        { "LD0110", ThreeTerms("Total = Dwa(Hard)") },
        { "LD0111", ThreeTerms("Total = Hard + Linear(0.1, 0.9, 0) * Soft") },
        { "LD0115", ThreeTerms("Total = Hard + Clamp(Soft, 1, 0.5)") },
        { "LD0116", ThreeTerms("Total = Hard + Log(0) * Soft") },
        { "LD0112", $$"""
            public partial class StaticStateful
            {
                [Term] static Tensor Hard(Tensor x) => x.mean();
                [Term] static Tensor Soft(Tensor x) => x.abs().mean();

                [Loss("Total = Uncertainty(Hard, Soft)")]
                public static partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0113", ThreeTerms("A = B + Hard\nB = A * 2\nTotal = A") },
        { "LD0114", $$"""
            public partial struct StatefulStruct
            {
            {{Terms}}
                [Loss("Total = Dwa(Hard, Soft)")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0125", ListTerms("Total = Hard + Layers") },
        { "LD0126", ListTerms("Total = Sum(Hard)") },
        { "LD0127", $$"""
            public partial class GradientOnANumber
            {
                public double Alpha { get; set; } = 0.5;
            {{Terms}}
                [Loss("Total = Hard + Balance(Soft, to: Hard, by: Gradient(Alpha))")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0201", $$"""
            public partial class BadTerm
            {
                [Term] Tensor Hard(Tensor x) => x.mean();
                [Term] double Soft(Tensor x) => 0;

                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0202", $$"""
            public partial class TextHyperparameter
            {
                public string Alpha { get; set; } = "0.5";
            {{Terms}}
                [Loss("Total = Hard + Alpha * Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0205", """
            public partial interface IAbstractMember
            {
                static abstract double Alpha { get; }
                [Term] static Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard * Alpha")]
                public static partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0203", $$"""
            public partial class UnusedTerm
            {
            {{Terms}}
                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0204", $$"""
            public partial class UnusedParameter
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x, Tensor unused);
            }
            """ },
        { "LD0206", """
            public partial class OldWeight
            {
                [System.Obsolete("use Beta")]
                public double Alpha { get; set; } = 0.5;

                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Alpha * Hard")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0207", """
            public partial class RemovedTerm
            {
                [System.Obsolete("use Hard", error: true)]
                [Term] Tensor Soft(Tensor x) => x.abs().mean();
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "LD0208", """
            public partial struct ReadonlyLoss
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard * 2")]
                public readonly partial Tensor Compute(Tensor x);
            }
            """ },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Diagnostic(string id, string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);

        Snapshot.Verify(run, id);
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == id);
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Id == "CS8785"); // the generator never throws
        // Whatever is generated compiles: errors stay in the user's code, never in generated files.
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree?.FilePath.EndsWith(".g.cs") == true);
        if (run.GeneratorDiagnostics.First(d => d.Id == id).Severity == DiagnosticSeverity.Warning)
        {
            Assert.Empty(run.Errors); // a warning leaves the generated code complete
        }
    }

    /// <summary>LD0010 needs two builds: the first writes the copy, the second compiles it as source.</summary>
    [Fact]
    public void Diagnostic_LD0010()
    {
        string loss = GeneratorHarness.Usings + $$"""
            public partial class Copied
            {
            {{Terms}}
                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """;
        var (first, _) = GeneratorHarness.Run(GeneratorHarness.Compilation(loss), GeneratorHarness.Driver());
        var second = GeneratorHarness.Compilation(loss).AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            first.Sources.Single().Value, GeneratorHarness.ParseOptions, "Generated/LossDsl.Generators/LossDsl.Generators.LossGenerator/Copied.LossDsl.g.cs"));
        var (run, _) = GeneratorHarness.Run(second, GeneratorHarness.Driver());

        Snapshot.Verify(run, "LD0010", test: "Diagnostic");
        Assert.Equal("LD0010", Assert.Single(run.GeneratorDiagnostics).Id);
    }

    public static TheoryData<string, string> MoreMessages => new()
    {
        { "BalanceToItself", ThreeTerms("Total = Hard + Balance(Soft, to: Soft)") },
        { "BalanceOfANumber", ThreeTerms("Total = Hard + Balance(2, to: Soft)") },
        { "BalanceOptionNotAConstant", ThreeTerms("Total = Hard + Balance(Soft, to: Hard, eps: Alpha)") },
        { "BalanceNegativeMax", ThreeTerms("Total = Hard + Balance(Soft, to: Hard, max: -1)") },
        { "BalanceOptionTwice", ThreeTerms("Total = Hard + Balance(Soft, to: Hard, eps: 1, eps: 2)") },
        { "DetachOfANumber", ThreeTerms("Total = Hard * Detach(3)") },
        { "TermCalledLikeAFunction", ThreeTerms("Total = Hard + Soft(x)") },
        { "UnclosedParenthesis", ThreeTerms("Total = (Hard + Soft") },
        { "NumberTooLarge", ThreeTerms("Total = Hard * 1e999") },
        { "MissingEquals", ThreeTerms("Total Hard + Soft") },
        { "PositionalAfterNamed", ThreeTerms("Total = Hard + Balance(to: Hard, Soft)") },
        { "BindingNamedLikeATerm", ThreeTerms("Hard = Soft * 2\nTotal = Hard") },
        { "EmaOutOfRange", ThreeTerms("Total = Hard + Balance(Soft, to: Hard, ema: 1)") },
        { "DwaUnknownOption", ThreeTerms("Total = Dwa(Hard, Soft, temprature: 2)") },
        { "DwaWindowNotWhole", ThreeTerms("Total = Dwa(Hard, Soft, window: 2.5)") },
        { "UncertaintyTakesNoOptions", ThreeTerms("Total = Uncertainty(Hard, Soft, eps: 1)") },
        { "CoVOfANumber", ThreeTerms("Total = CoV(Hard, 2)") },
        { "ScheduleOfATensor", ThreeTerms("Total = Hard * Linear(Soft, 0, 10)") },
        { "ScheduleArity", ThreeTerms("Total = Hard * Cosine(1, 0)") },
        { "ScheduleLengthIsATensor", ThreeTerms("Total = Hard * Cosine(1, 0, Soft)") },
        { "ScheduleFromNegative", ThreeTerms("Total = Hard * Linear(1, 0, Alpha, from: -10)") },
        { "ScheduleWarmupIsATensor", ThreeTerms("Total = Hard * Linear(1, 0, 100, warmup: Soft)") },
        { "ScheduleUnknownOption", ThreeTerms("Total = Hard * Cosine(1, 0, 100, delay: 10)") },
        { "PiecewiseEvenArguments", ThreeTerms("Total = Hard * Piecewise(1, 100, 0.5, 200)") },
        { "PiecewiseMilestonesDecrease", ThreeTerms("Total = Hard * Piecewise(1, 200, 0.5, 100, 0.25)") },
        { "PiecewiseMilestoneNegative", ThreeTerms("Total = Hard * Piecewise(1, -5, 0.5)") },
        { "MathArity", ThreeTerms("Total = Hard + Min(Soft)") },
        { "MathTakesNoOptions", ThreeTerms("Total = Sqrt(Hard, eps: 1e-8)") },
        { "ClampOfATensorBound", ThreeTerms("Total = Clamp(Hard, 0, Soft)") },
        { "ClampBoundsFromLiteralArithmetic", ThreeTerms("Total = Clamp(Hard, 2 * 3, (5))") },
        { "MathOfAnError", ThreeTerms("Total = Hard + Max(Sqrt(Nope), Soft) ^ 2") },
        { "InvalidInheritedTermUsed", """
            public abstract class Base
            {
                [Term] protected double Soft(Tensor x) => 0;
            }

            public partial class Derived : Base
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
        { "ListAsTheLoss", ListTerms("Total = 2 * Layers") },
        { "ListAsAScheduleLength", ListTerms("Total = Hard * Linear(0, 1, Layers)") },
        { "ListAsAClampBound", ListTerms("Total = Clamp(Hard, 0, Layers)") },
        { "ListTimesAList", ListTerms("Total = Sum(Layers * Layers)") },
        { "ListAsBalanceTarget", ListTerms("Total = Hard + Balance(Hard, to: Layers)") },
        { "ListInAWeighting", ListTerms("Total = CoV(Hard, Layers)") },
        { "SumOfTwoLists", ListTerms("Total = Sum(Layers, Layers)") },
        { "MeanOfANumber", ListTerms("Total = Hard + Mean(2) + Sum(Layers)") },
        { "BalanceOfAListWithEma", ListTerms("Total = Hard + Sum(Balance(Layers, to: Hard, ema: 0.9))") },
        { "RefReadonlyParameter", """
            public partial class ReadonlyInput
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial Tensor Compute(ref readonly Tensor x);
            }
            """ },
        { "MethodWithoutTermAttribute", """
            public partial class Forgotten
            {
                [Term] Tensor Hard(Tensor x) => x.mean();
                Tensor Soft(Tensor x) => x.abs().mean();

                [Loss("Total = Hard + Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """ },
    };

    [Theory]
    [MemberData(nameof(MoreMessages))]
    public void Message(string name, string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);

        Snapshot.Verify(run, name);
        // One mistake, one error: the method gets a stub that throws, so the compiler adds nothing.
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning);
    }

    [Fact]
    public void NonFiniteLiteralMathWarnsAtCallsAndPowersAndStillGenerates()
    {
        GeneratorRun run = GeneratorHarness.Run(ThreeTerms("Total = Hard * 0 ^ -1 + Sqrt(-1) * Soft + Log(Log(0)) * Hard"));

        Assert.Empty(run.Errors);
        Assert.Equal(
            new[]
            {
                "'0 ^ -1' is +infinity for the numbers written, so what is computed from it is not finite",
                "'Sqrt(-1)' is NaN for the numbers written, so what is computed from it is not finite",
                "'Log(0)' is -infinity for the numbers written, so what is computed from it is not finite", // once: Log of it is not a literal
            },
            run.GeneratorDiagnostics.Select(d => d.GetMessage()));
        Assert.Contains("global::System.Math.Pow(0.0, (-1.0))", run.Source); // left to call time, not folded
    }
    /// <summary>A loss with a list term, <c>Layers</c>, one tensor per layer.</summary>
    private static string ListTerms(string formula) => $$"""
        public partial class Formula
        {
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor[] Layers(Tensor x) => new[] { x.mean(), x.sum() };

            [Loss({{Sources.Literal(formula)}})]
            public partial Tensor Compute(Tensor x);
        }
        """;

    private static string ThreeTerms(string formula) => $$"""
        public partial class Formula
        {
            public double Alpha { get; set; } = 0.5;
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();

            [Loss({{Sources.Literal(formula)}})]
            public partial Tensor Compute(Tensor x);
        }
        """;
}
