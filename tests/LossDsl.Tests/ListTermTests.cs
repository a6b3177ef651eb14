using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The formulas of <see cref="ListTermTests"/>'s PyTorch fixtures (<c>Reference/list_terms.json</c>):
/// a list term that returns the elements of a 1-dim leaf, so that the gradients reach the leaf.
/// </summary>
public partial class ListReferenceLoss
{
    [Term] Tensor[] Layers(Tensor layers) => layers.unbind();

    [Loss("Total = Sum(Layers)")]
    public partial ListSumResult Sum(Tensor layers);

    [Loss("Total = Mean(Layers)")]
    public partial ListMeanResult Mean(Tensor layers);

    [Loss("Total = hard + Mean(3 * Layers)")]
    public partial ListScaledResult Scaled(Tensor layers, Tensor hard);

    [Loss("Total = soft + Sum(Balance(Layers, to: soft))")]
    public partial ListBalanceResult Balanced(Tensor layers, Tensor soft);

    [Loss("Total = soft + Mean(Balance(Layers, to: soft, min: 0.5, max: 4))")]
    public partial ListBalanceClampedResult BalancedClamped(Tensor layers, Tensor soft);
}

/// <summary>The reduction of a list balanced as one value: its rounding bound is the sum of the elements' magnitudes.</summary>
public partial class ListResidueLoss
{
    [Term] Tensor[] Layers(Tensor layers) => layers.unbind();

    [Loss("Total = hard + Balance(Sum(Layers), to: hard)")]
    public partial ListResidueResult Compute(Tensor layers, Tensor hard);
}

/// <summary>
/// Per-layer feature losses as a user writes them: a list term whose length is the number of
/// layers given to the loss object, each element balanced to the soft loss, and logged per layer.
/// </summary>
public partial class PerLayerLoss
{
    /// <summary>What <see cref="Features"/> returns; set by each test.</summary>
    public IReadOnlyList<Tensor?>? Given { get; set; }

    [Term] Tensor Soft(Tensor soft) => soft.mul(1.0);

    [Term] IReadOnlyList<Tensor?>? Features() => Given;

    [Loss("""
        Scaled = 2 * Features
        Kd     = Soft + Sum(Balance(Features, to: Soft))
        Total  = Kd + Mean(Scaled)
        """, MetricsPrefix = "distill/")]
    public partial PerLayerResult Compute(Tensor soft);

    [Loss("Total = Soft + Sum(Balance(Features, to: Soft))", CheckFinite = true)]
    public partial PerLayerCheckedResult Checked(Tensor soft);

    [Loss("Total = Soft + Mean(Features)")]
    public partial Tensor LossOnly(Tensor soft);
}

/// <summary>A list term that names its elements: the metric keys of the list and of the lists computed from it use the names.</summary>
public partial class NamedLayerLoss
{
    /// <summary>What <see cref="Features"/> returns; set by each test.</summary>
    public IReadOnlyList<(string Name, Tensor Value)> Given { get; set; } = Array.Empty<(string, Tensor)>();

    [Term] Tensor Soft(Tensor soft) => soft.mul(1.0);

    [Term] IReadOnlyList<(string Name, Tensor Value)> Features() => Given;

    [Loss("""
        Scaled = 2 * Features
        Total  = Soft + Sum(Balance(Features, to: Soft)) + Mean(Scaled)
        """)]
    public partial NamedLayerResult Compute(Tensor soft);
}

/// <summary>The example of docs/language.md's "Lists of terms": per-layer feature losses for the layers a run names.</summary>
public partial class LayeredDistillation
{
    public double Alpha { get; set; } = 0.5;

    public IReadOnlyList<int> Layers { get; set; } = new[] { 1, 2 };

    [Term] Tensor Hard(Tensor studentLogits, Tensor labels)
        => Losses.CrossEntropy(studentLogits, labels);

    [Term] Tensor Soft(Tensor studentLogits, Tensor teacherLogits)
        => Losses.SoftTargetKl(studentLogits, teacherLogits, 2.0);

    [Term] Tensor[] LayerLosses(Tensor[] studentHidden, Tensor[] teacherHidden)
        => Layers.Select(l => Losses.CosineDistance(studentHidden[l], teacherHidden[l])).ToArray();

    [Loss("""
        Kd    = Soft + Sum(Balance(LayerLosses, to: Soft))
        Total = Hard + Alpha * Balance(Kd, to: Hard)
        """, MetricsPrefix = "distill/")]
    public partial LayeredResult Compute(Tensor studentLogits, Tensor teacherLogits, Tensor labels,
                                         Tensor[] studentHidden, Tensor[] teacherHidden);
}

/// <summary>
/// List terms (one 0-dim tensor per element) on real tensors: Sum, Mean, a number times a list and
/// per-element Balance against PyTorch, lengths that change between calls, metric keys, the checks
/// of a list's value, and the lifetime of every tensor.
/// </summary>
public class ListTermTests
{
    public static TheoryData<string> ReferenceCases => PyTorchReference.Ids("list_terms");

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void SumMeanAndPerElementBalanceMatchPyTorch(string id)
    {
        using var scope = NewDisposeScope();
        var c = PyTorchReference.Get("list_terms", id);
        string op = c.Params.GetProperty("op").GetString()!;
        var leaves = c.Gradients.Keys.ToDictionary(k => k, k => c.Input(k, requiresGrad: true));
        Tensor Input(string name) => leaves.TryGetValue(name, out Tensor? leaf) ? leaf : c.Input(name);
        var loss = new ListReferenceLoss();
        ILossResult result = op switch
        {
            "sum" => loss.Sum(Input("layers")),
            "mean" => loss.Mean(Input("layers")),
            "scaled" => loss.Scaled(Input("layers"), Input("hard")),
            "balance" => loss.Balanced(Input("layers"), Input("soft")),
            "balance_clamped" => loss.BalancedClamped(Input("layers"), Input("soft")),
            _ => throw new InvalidOperationException($"The fixture has an op '{op}' this test does not know."),
        };
        PyTorchReference.AssertMatches(c, result.Loss, leaves);
    }

    [Fact]
    public void TheLengthMayChangeFromCallToCallAndEveryElementIsLoggedUnderItsIndex()
    {
        using var scope = NewDisposeScope();
        var loss = new PerLayerLoss();
        foreach (int length in new[] { 2, 5, 1, 3 })
        {
            double[] values = Enumerable.Range(1, length).Select(i => i * (i % 2 == 0 ? -0.25 : 0.5)).ToArray();
            loss.Given = values.Select(v => (Tensor?)tensor(v)).ToList();
            using var result = loss.Compute(tensor(0.8));

            var metrics = result.Metrics();
            var expectedKeys = new List<string> { "distill/total", "distill/soft", "distill/kd" };
            foreach (string list in new[] { "features", "scaled", "features_scale" })
            {
                expectedKeys.AddRange(Enumerable.Range(0, length).Select(i => $"distill/{list}/{i}"));
            }
            Assert.Equal(expectedKeys, metrics.Keys);
            Assert.Equal(length, result.Features.Count);
            Assert.Equal(length, result.Scaled.Count);
            Assert.Equal(length, result.FeaturesScale.Count);
            for (int i = 0; i < length; i++)
            {
                // Each element: the value the term returned, twice it, and its own scale |soft| / |x_i|.
                Assert.Equal(values[i], metrics[$"distill/features/{i}"], 12);
                Assert.Equal(2 * values[i], metrics[$"distill/scaled/{i}"], 12);
                Assert.Equal(0.8 / Math.Abs(values[i]), metrics[$"distill/features_scale/{i}"], 12);
                Assert.Equal(0, result.FeaturesScale[i].Dimensions);
            }
            double kd = 0.8 + values.Sum(v => Math.Sign(v) * 0.8);
            Assert.Equal(kd, metrics["distill/kd"], 12);
            Assert.Equal(kd + 2 * values.Average(), metrics["distill/total"], 12);
        }
    }

    [Fact]
    public void TheDocumentedPerLayerDistillationLogsEachLayerOfTheLayersARunNames()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        Tensor studentLogits = randn(4, 5, dtype: ScalarType.Float64, requires_grad: true), teacherLogits = randn(4, 5, dtype: ScalarType.Float64);
        Tensor labels = tensor(new long[] { 0, 3, 1, 4 });
        Tensor[] studentHidden = Enumerable.Range(0, 4).Select(_ => randn(4, 8, dtype: ScalarType.Float64, requires_grad: true)).ToArray();
        Tensor[] teacherHidden = Enumerable.Range(0, 4).Select(_ => randn(4, 8, dtype: ScalarType.Float64)).ToArray();
        var loss = new LayeredDistillation();

        foreach (int[] layers in new[] { new[] { 1, 2 }, new[] { 0, 1, 3 } })
        {
            loss.Layers = layers;
            using var result = loss.Compute(studentLogits, teacherLogits, labels, studentHidden, teacherHidden);
            result.Total.backward();

            var metrics = result.Metrics();
            double soft = metrics["distill/soft"];
            for (int i = 0; i < layers.Length; i++)
            {
                double layer = Losses.CosineDistance(studentHidden[layers[i]], teacherHidden[layers[i]]).item<double>();
                Assert.Equal(layer, metrics[$"distill/layer_losses/{i}"], 12);
                Assert.Equal(Math.Abs(soft) / Math.Abs(layer), metrics[$"distill/layer_losses_scale/{i}"], 9);
                Assert.NotNull(studentHidden[layers[i]].grad);
            }
            Assert.False(metrics.ContainsKey($"distill/layer_losses/{layers.Length}"));
            // Each layer balanced to Soft: Kd = Soft + Σ sign(layer) |Soft|.
            Assert.Equal(soft * (1 + layers.Length), metrics["distill/kd"], 9);
            foreach (Tensor hidden in studentHidden)
            {
                hidden.grad?.zero_();
            }
        }
    }

    [Fact]
    public void EachElementGetsItsOwnScaleAndNoGradientFlowsThroughTheScales()
    {
        using var scope = NewDisposeScope();
        Tensor a = tensor(0.5, requires_grad: true), b = tensor(-2.0, requires_grad: true), soft = tensor(1.5, requires_grad: true);
        var loss = new PerLayerLoss { Given = new[] { a, b } };
        using var result = loss.Checked(soft);

        result.Total.backward();

        // Total = soft + a * |soft|/|a| + b * |soft|/|b|, the scales constants: d/da = 3, d/db = 0.75, d/dsoft = 1.
        Assert.Equal(3.0, a.grad!.item<double>(), 12);
        Assert.Equal(0.75, b.grad!.item<double>(), 12);
        Assert.Equal(1.0, soft.grad!.item<double>(), 12);
        Assert.Equal(1.5 - 1.5 + 1.5, result.Total.item<double>(), 12);
        Assert.False(result.FeaturesScale[0].requires_grad);
    }

    [Fact]
    public void ASumThatCancelsToRoundingResidueIsBalancedAsZero()
    {
        using var scope = NewDisposeScope();
        // In float32 these cancel to a residue far above eps (1e-8) but within rounding of the
        // elements' magnitudes: without the sum's rounding bound its scale would be about 1e4.
        Tensor layers = tensor(new[] { 1000.1f, -1000.0f, -0.1f }), hard = tensor(0.5f);
        using var result = new ListResidueLoss().Compute(layers, hard);

        double sum = layers.sum().item<float>();
        Assert.InRange(Math.Abs(sum), 1e-6, 1e-3);
        Assert.Equal(1.0, result.BalanceScale.item<float>());
    }

    [Fact]
    public void NamedElementsAreLoggedUnderTheirNamesAndSoAreTheListsComputedFromThem()
    {
        using var scope = NewDisposeScope();
        var loss = new NamedLayerLoss { Given = new[] { ("layer1", tensor(0.5)), ("layer4", tensor(-0.25)) } };
        using var result = loss.Compute(tensor(2.0));

        var metrics = result.Metrics();
        Assert.Equal(new[] { "total", "soft", "features/layer1", "features/layer4", "scaled/layer1", "scaled/layer4", "features_scale/layer1", "features_scale/layer4" }, metrics.Keys);
        Assert.Equal(-0.5, metrics["scaled/layer4"], 12);
        Assert.Equal(8.0, metrics["features_scale/layer4"], 12);
        Assert.Equal(2.0 + 2.0 - 2.0 + 0.25, metrics["total"], 12);
        Assert.Equal(2, result.Features.Count);
    }

    [Theory]
    [InlineData("a", "a", "Term 'Features' returned a list whose elements 0 and 1 are both named 'a'; each element needs a name of its own.")]
    [InlineData("a", "", "Term 'Features' returned a list whose element 1 has no name; name every element, or return Tensor[].")]
    [InlineData(null, "b", "Term 'Features' returned a list whose element 0 has no name; name every element, or return Tensor[].")]
    public void ElementNamesMustBeGivenAndDistinct(string? first, string second, string message)
    {
        using var scope = NewDisposeScope();
        var loss = new NamedLayerLoss { Given = new[] { (first!, tensor(1.0)), (second, tensor(2.0)) } };
        long before = LiveTensors.Count;
        var error = Assert.Throws<ArgumentException>(() => loss.Compute(tensor(1.0)));
        Assert.StartsWith(message, error.Message);
        Assert.Equal("Features", error.ParamName);
        Assert.Equal(before + 1, LiveTensors.Count); // the tensor(1.0) argument only
    }

    [Fact]
    public void ANullListIsAnErrorNamingTheTerm()
    {
        using var scope = NewDisposeScope();
        var loss = new PerLayerLoss { Given = null };
        var error = Assert.Throws<ArgumentNullException>(() => loss.Compute(tensor(1.0)));
        Assert.Equal("Features", error.ParamName);
    }

    [Fact]
    public void ANullElementIsAnErrorNamingTheTermAndTheIndex()
    {
        using var scope = NewDisposeScope();
        var loss = new PerLayerLoss { Given = new[] { tensor(1.0), null, tensor(2.0) } };
        var error = Assert.Throws<ArgumentNullException>(() => loss.Compute(tensor(1.0)));
        Assert.Equal("Features", error.ParamName);
        Assert.Contains("Term 'Features' returned a list whose element 1 is null.", error.Message);
    }

    [Fact]
    public void AnElementThatIsNotAScalarIsAnErrorNamingTheTermTheIndexAndTheShape()
    {
        using var scope = NewDisposeScope();
        var loss = new PerLayerLoss { Given = new[] { tensor(1.0), ones(2, 3) } };
        var error = Assert.Throws<ArgumentException>(() => loss.Compute(tensor(1.0)));
        Assert.Equal("Features[1]", error.ParamName);
        Assert.StartsWith("Term 'Features[1]' must be a scalar (0-dim) tensor, but it has shape [2, 3].", error.Message);
    }

    [Fact]
    public void AnEmptyListIsAnErrorNamingTheTerm()
    {
        using var scope = NewDisposeScope();
        var loss = new PerLayerLoss { Given = Array.Empty<Tensor>() };
        var error = Assert.Throws<ArgumentException>(() => loss.LossOnly(tensor(1.0)));
        Assert.Equal("Features", error.ParamName);
        Assert.StartsWith("Term 'Features' returned an empty list", error.Message);
    }

    [Fact]
    public void ElementsOfDifferentDtypesAreAnErrorNamingBoth()
    {
        using var scope = NewDisposeScope();
        var loss = new PerLayerLoss { Given = new[] { tensor(1.0), tensor(2.0f) } };
        var error = Assert.Throws<ArgumentException>(() => loss.Compute(tensor(1.0)));
        Assert.StartsWith("Term 'Features' returned a list whose element 1 is Float32 on cpu, but its element 0 is Float64 on cpu.", error.Message);
    }

    [Fact]
    public void AFailedCallLeavesNoTensorAlive()
    {
        using var scope = NewDisposeScope();
        Tensor soft = tensor(1.0);
        var loss = new PerLayerLoss { Given = new[] { tensor(1.0), tensor(2.0), ones(2) } };
        long before = LiveTensors.Count;
        for (int i = 0; i < 5; i++)
        {
            Assert.Throws<ArgumentException>(() => loss.Compute(soft));
        }
        Assert.Equal(before, LiveTensors.Count);
    }

    [Fact]
    public void ResultsLeaveNoTensorAliveOnceDisposedWhateverTheLength()
    {
        using var scope = NewDisposeScope();
        Tensor soft = tensor(0.7);
        var loss = new PerLayerLoss();
        foreach (int length in new[] { 1, 4, 9 })
        {
            loss.Given = Enumerable.Range(0, length).Select(i => (Tensor?)tensor(0.1 * (i + 1))).ToArray();
            Assert.Equal(0, LiveTensors.AddedBy(10, () => loss.Compute(soft)));
            Assert.Equal(0, LiveTensors.AddedBy(10, () => loss.Checked(soft)));
            Assert.Equal(0, LiveTensors.AddedBy(10, () => loss.LossOnly(soft)));
        }
    }

    [Fact]
    public void DisposingTheResultReleasesEveryElementButLeavesTheTensorsTheTermReturnedAsTheyAre()
    {
        using var scope = NewDisposeScope();
        Tensor a = tensor(0.5), b = tensor(2.0);
        var loss = new PerLayerLoss { Given = new[] { a, b } };
        var result = loss.Compute(tensor(1.0));
        var elements = result.Features.Concat(result.Scaled).Concat(result.FeaturesScale).ToList();
        Assert.DoesNotContain(elements, e => ReferenceEquals(e, a)); // an alias: Tensor.Equals compares values

        result.Dispose();

        Assert.All(elements, e => Assert.True(e.IsInvalid));
        Assert.False(a.IsInvalid);
        Assert.Equal(2.0, b.item<double>());
        Assert.Throws<ObjectDisposedException>(() => result.Features);
    }

    [Fact]
    public void CheckFiniteNamesAListWithANonFiniteElement()
    {
        using var scope = NewDisposeScope();
        var loss = new PerLayerLoss { Given = new[] { tensor(0.5), tensor(double.NaN) } };
        var error = Assert.Throws<ArithmeticException>(() => loss.Checked(tensor(1.0)));
        Assert.Equal("The loss produced non-finite values in: Total, Features, FeaturesScale.", error.Message);
    }

    /// <summary>
    /// The tensors one call creates, counted, so that a change in the generated code that creates
    /// more shows here. For <c>Total = Soft + Sum(Balance(Features, to: Soft))</c> with
    /// <c>CheckFinite</c> and n elements the test created (so each gets an alias, n): the Soft term's
    /// own value (1), the stack of the elements (1), two magnitudes, the ratio, the minimum and the
    /// guard's mask (5: one scale tensor for all elements), the balanced list, its sum and the total
    /// (3), and CheckFinite's abs and max per list (4), stack, isfinite and host copy (3): 17 + n.
    /// The scales go to the result as their one 1-dim tensor; their 0-dim views are made only when the
    /// property is read (17 + 2n before). Balancing each element on its own would take five tensors per scale.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(12)]
    public void ACallCreatesOneScaleTensorForAllElements(int length)
    {
        using var scope = NewDisposeScope();
        Tensor soft = tensor(0.7);
        var loss = new PerLayerLoss { Given = Enumerable.Range(0, length).Select(i => (Tensor?)tensor(0.1 * (i + 1))).ToArray() };
        loss.Checked(soft).Dispose();

        long created = CreatedBy(() => loss.Checked(soft).Dispose());

        Assert.Equal(17 + length, created);
    }

    private static long CreatedBy(Action call)
    {
        // This thread's counts, as the benchmarks' census reads them.
        var statistics = DisposeScopeManager.Statistics;
        long before = statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
        call();
        return statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount - before;
    }
}
