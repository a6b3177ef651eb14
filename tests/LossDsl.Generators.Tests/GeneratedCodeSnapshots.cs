using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// The generated code, as a reviewer reads it: one snapshot per generated file and one of the
/// diagnostics (Snapshots/). Each case must compile cleanly with the generated code.
/// </summary>
public class GeneratedCodeSnapshots
{
    [Fact]
    public void DesignExample() => VerifyClean(GeneratorHarness.Run(Sources.Distillation));

    public static TheoryData<string, string> FormulaFeatures => new()
    {
        { "Balance", "Total = Hard + Balance(Soft, to: Hard)" },
        { "BalanceOptions", "Total = Hard + Balance(Soft, to: Hard, eps: 1e-6, min: 0.1, max: 10)" },
        { "BalanceOfExpression", "Total = Balance(Hard + Soft, to: Feature) + Feature" },
        { "Detach", "Total = Hard * Detach(Soft)" },
        { "Arithmetic", "Total = -(Hard - Soft) / 2 + 3 * Feature * Soft - Hard / Feature" },
        { "NumbersAroundTensors", "Total = 1 - Hard + 2 / Soft - Feature * 0.5" },
        { "LiteralFolding", "Total = Hard * (2 * 3 - 1) / 4" },
        { "Hyperparameters", "Total = Alpha * Hard + Gamma * Soft + Steps * Feature / Tokens + Margin + Shared" },
        { "Parameters", "Total = weight * Hard + given" },
        { "TensorMember", "Total = Hard * Prior" },
        { "NumberBindings", "W = Alpha * 2\nHalf = 0.5\nTotal = W * Hard + Half * Soft" },
        { "Comments", "// the KD part\nKd = Soft + Feature // both terms\n\nTotal = Hard + Kd" },
        { "Semicolons", "A = Hard; B = A + Soft; Total = B * 2" },
        { "AliasBinding", "Base = Hard\nTotal = Base + Soft" },
        { "BalanceEma", "Total = Hard + Balance(Soft, to: Hard, ema: 0.9, max: 100)" },
        { "Uncertainty", "Total = Uncertainty(Hard, Soft, Feature)" },
        { "Dwa", "Total = Dwa(Hard, Soft, Feature, temperature: 2, window: 5)" },
        { "CoV", "Total = CoV(Hard, Soft + Feature)" },
        { "Schedules", "Total = Hard + Linear(Alpha, 0.9, 1000) * Soft + Cosine(1, 0, 500) * Feature" },
        { "ScheduleLengthsReadAtCallTime", "Total = Hard + Cosine(0.9, 0.1, Steps, from: Tokens / 10, warmup: weight) * Soft + Linear(1, 0, 100, from: 20, warmup: 5) * Feature" },
        { "Piecewise", "Total = Hard + Piecewise(1, 100, 0.5, Steps, 0.1, warmup: 10) * Soft" },
        { "ScheduleAndNumberBindingsInTheResult", "Kd = Cosine(0.9, 0.1, Steps)\nT = Kd * Gamma\nTotal = Hard + Kd * Soft + T * Feature + Linear(0, 1, Tokens) * Hard" },
        { "MathOnTensors", "R = Sqrt(Hard) + Log(Soft) * Exp(Feature) - Abs(Hard - Soft)\nM = Min(Hard, Soft) + Max(Feature, 0.5) + Min(Alpha, Soft) + Clamp(Soft, 0, Alpha)\nP = Pow(Hard, 1.5) - Feature ^ 2 + 2 ^ Soft + Hard ^ Soft ^ weight\nTotal = R + M + P + Balance(Abs(Hard - Soft), to: Sqrt(Feature))" },
        { "BalanceByGradient", "Total = Hard + Balance(Soft, to: Hard, by: Gradient(Trunk)) + Balance(Feature, to: Hard, by: Gradient(Prior), stabilizer: 1e-4, max: 1e4) + Balance(Soft + Feature, to: Hard, by: Gradient(given), ema: 0.9, min: 0.1)" },
        { "BalanceStabilizer", "Total = Hard + Balance(Soft, to: Hard, stabilizer: 1e-4, max: 100) + Balance(Feature, to: Hard, stabilizer: 0.01, ema: 0.9)" },
        { "Anneal", "Total = Hard + Anneal(Soft, to: Hard, by: Gradient(Heads), alpha: 0.5, max: 100)" },
        { "GradNorm", "Total = GradNorm(Hard, Soft, Feature, shared: Trunk)" },
        { "MathOnNumbers", "Folded = Sqrt(16) * Max(2, 3) ^ 2 - Clamp(5, 0, 1) + 2 ^ 3 ^ 2 - Abs(-4) + Exp(0) + Log(1) + Min(Pow(2, 0.5), 1)\nAtCallTime = Sqrt(Alpha) + Log(Gamma) * Exp(-Margin) + Abs(weight) + Min(Steps, Tokens) - Max(Alpha, 0.1) ^ 2 + Clamp(Shared, 0, 1) + Pow(Alpha, Gamma)\nTotal = Folded * Hard + AtCallTime * Soft" },
    };

    [Theory]
    [MemberData(nameof(FormulaFeatures))]
    public void Feature(string name, string formula)
        => VerifyClean(GeneratorHarness.Run(Sources.Features(formula)), name);

    [Fact]
    public void MetricsPrefixAndCheckFinite()
        => VerifyClean(GeneratorHarness.Run(Sources.Features("Total = Hard + Balance(Soft, to: Hard)", options: ", MetricsPrefix = \"distill/\", CheckFinite = true")));

    [Fact]
    public void TensorReturningLoss()
        => VerifyClean(GeneratorHarness.Run(Sources.Features("Kd = Soft + Feature\nTotal = Hard + Balance(Kd, to: Hard)", returnType: "Tensor")));

    [Fact]
    public void TwoLossMethodsInOneClass() => VerifyClean(GeneratorHarness.Run("""
        namespace Sample;

        public partial class TwoLosses
        {
            public double Alpha { get; set; } = 0.5;

            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();

            [Loss("Total = Hard + Alpha * Soft")]
            public partial TrainingResult Train(Tensor x);

            [Loss("Total = Hard")]
            internal partial Tensor Evaluate(Tensor x);
        }
        """));

    /// <summary>The worked example of docs/language.md, compiled from the file the runtime tests run (WorkedExampleTests).</summary>
    [Fact]
    public void WorkedExamplePerLayerDistillation()
        => VerifyClean(GeneratorHarness.RunWithoutUsings(System.IO.File.ReadAllText(WorkedExampleDocsTests.FixturePath)));

    /// <summary>The VQGAN worked example of docs/language.md, compiled from the file the runtime tests train (GradientBalancingTests).</summary>
    [Fact]
    public void WorkedExampleVqgan()
        => VerifyClean(GeneratorHarness.RunWithoutUsings(System.IO.File.ReadAllText(WorkedExampleDocsTests.VqganFixturePath)));

    [Fact]
    public void OptionalTermsAndTermDefaults() => VerifyClean(GeneratorHarness.Run(""""
        namespace Sample;

        public partial class Optional
        {
            public bool UseFeature { get; set; } = true;

            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x, Tensor y, double temperature = 2.0) => (x - y).abs().mean() * temperature;
            [Term] Tensor Feature(Tensor y) => y.pow(2).mean();
            [Term] Tensor Extra(Tensor x, params Tensor[] more) => x.sum();

            [Loss("""
                Kd    = Soft + Balance(If(UseFeature, Feature), to: Soft)
                Total = Hard + Kd + If(useExtra, Extra)
                """)]
            public partial OptionalResult Compute(Tensor x, Tensor y, bool useExtra);
        }
        """"));

    [Fact]
    public void GlobalNamespace() => VerifyClean(GeneratorHarness.Run("""
        public partial class GlobalLoss
        {
            [Term] Tensor Hard(Tensor x) => x.mean();

            [Loss("Total = Hard * 2")]
            public partial GlobalLossResult Compute(Tensor x);
        }
        """));

    [Fact]
    public void NestedTypesInABlockNamespace() => VerifyClean(GeneratorHarness.Run("""
        namespace Sample.Nested
        {
            public static partial class Losses
            {
                internal partial struct Inner<T>
                {
                    [Term] static Tensor Hard(Tensor x) => x.mean();
                    [Term] static Tensor Soft(Tensor x) => x.abs().mean();

                    [Loss("Total = Hard + Balance(Soft, to: Hard)")]
                    public static partial InnerResult Compute(Tensor x);
                }
            }
        }
        """));

    [Fact]
    public void DerivedClassUsesBaseMembers() => VerifyClean(GeneratorHarness.Run("""
        namespace Sample;

        public abstract class LossBase
        {
            public double Alpha { get; set; } = 0.25;

            [Term] protected Tensor Hard(Tensor x) => x.mean();
        }

        public sealed partial class Derived : LossBase
        {
            [Term] Tensor Soft(Tensor x) => x.abs().mean();

            [Loss("Total = Hard + Alpha * Soft")]
            public partial DerivedResult Compute(Tensor x);
        }
        """));

    private static void VerifyClean(GeneratorRun run, string? variant = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        Snapshot.Verify(run, variant, test: test);
        Assert.Empty(run.Errors);
    }
}
