using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Generated code for list terms (one tensor per element): Sum, Mean, per-element Balance, a number
/// times a list, Detach of a list, list bindings, and the result type with list properties.
/// </summary>
public class ListTermSnapshots
{
    public static TheoryData<string, string> ListFeatures => new()
    {
        { "SumAndMean", "Total = Hard + Sum(Layers) + 0.5 * Mean(Layers)" },
        { "BalanceEachElement", "Total = Soft + Sum(Balance(Layers, to: Soft, max: 10))" },
        { "ListBindings", "Scaled = 2 * Layers\nKept = Detach(Layers) / 4\nTotal = Hard + Mean(Scaled) + Sum(Kept)" },
        { "BalanceTheSum", "Kd = Soft + Sum(Layers)\nTotal = Hard + Balance(Kd, to: Hard)" },
        { "NamedElements", "Scaled = 2 * Named\nTotal = Hard + Sum(Balance(Named, to: Hard)) + Mean(Scaled) + Sum(Layers)" },
    };

    [Theory]
    [MemberData(nameof(ListFeatures))]
    public void Feature(string name, string formula)
        => VerifyClean(GeneratorHarness.Run(Source(formula)), name);

    [Fact]
    public void ReadOnlyListTermWithPrefixAndCheckFinite()
        => VerifyClean(GeneratorHarness.Run(Source("Total = Soft + Sum(Balance(Blocks, to: Soft))", options: ", MetricsPrefix = \"distill/\", CheckFinite = true")));

    [Fact]
    public void TensorReturningLoss()
        => VerifyClean(GeneratorHarness.Run(Source("Total = Hard + Mean(Balance(Layers, to: Hard))", returnType: "Tensor")));

    [Fact]
    public void AMethodWithErrorsKeepsItsListBindingsAsLists()
    {
        // Code that reads a list binding of a method with an error still compiles: the LD error is the only one.
        GeneratorRun run = GeneratorHarness.Run(
            Source("Scaled = 2 * Layers\nTotal = Hard + Scaled"),
            """
            namespace Sample;

            public static class Reader
            {
                public static int Count(Lists loss, TorchSharp.torch.Tensor x) => loss.Compute(x).Scaled.Count;
            }
            """);
        Snapshot.Verify(run);
        Assert.Equal("LD0125", Assert.Single(run.Errors).Id);
    }

    /// <summary>A loss class with two scalar terms and three list terms, one of each collection type.</summary>
    public static string Source(string formula, string returnType = "ListsResult", string options = "") => $$"""
        using System.Collections.Generic;
        using System.Linq;

        namespace Sample;

        public partial class Lists
        {
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
            [Term] Tensor[] Layers(Tensor x) => new[] { x.pow(2).mean(), x.abs().sum() };
            [Term] IReadOnlyList<Tensor> Blocks(Tensor x) => new List<Tensor> { x.mean(), x.sum() };
            [Term] IReadOnlyList<(string Name, Tensor Value)> Named(Tensor x) => new[] { ("mean", x.mean()), ("sum", x.sum()) };

            [Loss({{Sources.Literal(formula)}}{{options}})]
            public partial {{returnType}} Compute(Tensor x);
        }
        """;

    private static void VerifyClean(GeneratorRun run, string? variant = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        Snapshot.Verify(run, variant, test: test);
        Assert.Empty(run.Errors);
    }
}
