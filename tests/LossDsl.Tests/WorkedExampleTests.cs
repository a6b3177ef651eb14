using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Testing;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The worked example of docs/language.md (<see cref="LayerwiseDistillationLoss"/>), as a user runs
/// it: values and gradients against the same loss written by hand from the library's terms, every
/// value in Metrics() from one fetch, the schedule's length read from the property, the switch.
/// </summary>
public class WorkedExampleTests
{
    private sealed record Batch(Tensor StudentLogits, Tensor TeacherLogits, Tensor Labels, Tensor[] StudentHidden, Tensor[] TeacherHidden);

    private static Batch MakeBatch()
    {
        var generator = new torch.Generator(11);
        Tensor Randn(params long[] shape) => randn(shape, dtype: ScalarType.Float64, generator: generator);
        return new Batch(
            Randn(4, 6).requires_grad_(), Randn(4, 6), tensor(new long[] { 0, 5, 2, 3 }),
            Enumerable.Range(0, 3).Select(_ => Randn(4, 8).requires_grad_()).ToArray(),
            Enumerable.Range(0, 3).Select(_ => Randn(4, 8)).ToArray());
    }

    /// <summary>The loss by hand: alpha from the cosine schedule's formula, each layer's scale |soft| / |layer|.</summary>
    private static Tensor ByHand(Batch b, long step, int totalSteps, int[] layers, out double alpha, out double[] scales)
    {
        double p = Math.Clamp((double)step / totalSteps, 0, 1);
        alpha = 0.1 + (0.9 - 0.1) * 0.5 * (1 + Math.Cos(Math.PI * p));
        Tensor hard = Losses.CrossEntropy(b.StudentLogits, b.Labels);
        Tensor soft = Losses.SoftTargetKl(b.StudentLogits, b.TeacherLogits, 2.0);
        Tensor[] perLayer = layers.Select(l => Losses.CosineDistance(b.StudentHidden[l], b.TeacherHidden[l])).ToArray();
        double softValue = soft.item<double>();
        scales = perLayer.Select(t => Math.Abs(softValue) / Math.Abs(t.item<double>())).ToArray();
        Tensor features = perLayer.Zip(scales, (t, s) => t * s).Aggregate((x, y) => x + y);
        return hard * (1 - alpha) + (soft + features) * alpha;
    }

    [Fact]
    public void It_computes_the_loss_a_user_writes_by_hand_with_every_value_logged()
    {
        using var scope = NewDisposeScope();
        Batch b = MakeBatch();
        var loss = new LayerwiseDistillationLoss { TotalSteps = 1000, DistilledLayers = new[] { 1, 2 } };
        loss.ComputeState.Step = 250;

        using var result = loss.Compute(b.StudentLogits, b.TeacherLogits, b.Labels, b.StudentHidden, b.TeacherHidden);
        Tensor expected = ByHand(b, 250, 1000, new[] { 1, 2 }, out double alpha, out double[] scales);

        Assert.Equal(alpha, result.Alpha, 12);
        Assert.Equal(expected.item<double>(), result.Total.item<double>(), 12);
        Assert.Equal(2, result.Layers.Count);
        for (int i = 0; i < scales.Length; i++)
        {
            RelativeTolerance.AssertClose(scales[i], result.LayersScale[i], 1e-12, $"scale of layer {i + 1}");
        }

        var metrics = result.Metrics();
        Assert.Equal(
            new[]
            {
                "distill/alpha", "distill/features", "distill/hard", "distill/kd", "distill/layers/layer1", "distill/layers/layer2",
                "distill/layers_scale/layer1", "distill/layers_scale/layer2", "distill/soft", "distill/total",
            },
            metrics.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(alpha, metrics["distill/alpha"], 12);
        Assert.Equal(result.Layers[1].item<double>(), metrics["distill/layers/layer2"]);
        Assert.Equal(scales[0], metrics["distill/layers_scale/layer1"], 10);
        Assert.Equal(result.Kd.item<double>(), metrics["distill/kd"]);
    }

    [Fact]
    public void Its_gradients_are_those_of_the_hand_written_loss_with_the_scales_held_constant()
    {
        using var scope = NewDisposeScope();
        Batch mine = MakeBatch(), theirs = MakeBatch();
        var loss = new LayerwiseDistillationLoss { TotalSteps = 1000 };
        loss.ComputeState.Step = 600;

        using (var result = loss.Compute(mine.StudentLogits, mine.TeacherLogits, mine.Labels, mine.StudentHidden, mine.TeacherHidden))
        {
            result.Total.backward();
        }
        // By hand, the scales enter as plain numbers: no gradient flows through them.
        ByHand(theirs, 600, 1000, new[] { 1, 2 }, out _, out _).backward();

        Assert.True(allclose(mine.StudentLogits.grad!, theirs.StudentLogits.grad!, rtol: 1e-10, atol: 1e-12));
        foreach (int layer in new[] { 1, 2 })
        {
            Assert.True(allclose(mine.StudentHidden[layer].grad!, theirs.StudentHidden[layer].grad!, rtol: 1e-10, atol: 1e-12));
        }
        Assert.Null(mine.StudentHidden[0].grad); // layer 0 is not distilled
    }

    [Fact]
    public void Metrics_fetches_every_value_in_one_copy_to_the_host()
    {
        using var scope = NewDisposeScope();
        Batch b = MakeBatch();
        long MetricsOf(int[] layers, int expectedCount)
        {
            using var result = new LayerwiseDistillationLoss { DistilledLayers = layers }.Compute(b.StudentLogits, b.TeacherLogits, b.Labels, b.StudentHidden, b.TeacherHidden);
            long created = Created();
            var metrics = result.Metrics();
            Assert.Equal(expectedCount, metrics.Count);
            return Created() - created;
        }

        // The values are joined on the device and copied once: the tensors Metrics() makes do not
        // depend on how many values there are (a fetch per value would make a copy each).
        long twoLayers = MetricsOf(new[] { 1, 2 }, 10);
        long threeLayers = MetricsOf(new[] { 0, 1, 2 }, 12);
        Assert.Equal(twoLayers, threeLayers);
        Assert.Equal(6, twoLayers); // stack of the values, float64 of it and of the two lists, cat, host copy
    }

    [Fact]
    public void The_schedule_length_is_read_from_the_property_on_every_call()
    {
        using var scope = NewDisposeScope();
        Batch b = MakeBatch();
        var loss = new LayerwiseDistillationLoss { TotalSteps = 1000 };
        loss.ComputeState.Step = 500;
        double Alpha()
        {
            using var result = loss.Compute(b.StudentLogits, b.TeacherLogits, b.Labels, b.StudentHidden, b.TeacherHidden);
            return result.Alpha;
        }

        Assert.Equal(0.5, Alpha(), 12);                         // halfway through 1000 steps
        loss.TotalSteps = 500;
        Assert.Equal(0.1, Alpha(), 12);                         // at the end of 500
        loss.TotalSteps = 2000;
        Assert.Equal(0.1 + 0.8 * 0.5 * (1 + Math.Cos(Math.PI / 4)), Alpha(), 12);
    }

    [Fact]
    public void Switched_off_the_feature_losses_are_not_computed_and_add_nothing()
    {
        using var scope = NewDisposeScope();
        Batch b = MakeBatch();
        var loss = new LayerwiseDistillationLoss { UseFeatures = false, TotalSteps = 1000 };

        // The hidden states are not even given: the term that reads them is not called.
        using var result = loss.Compute(b.StudentLogits, b.TeacherLogits, b.Labels, null!, null!);

        Tensor hard = Losses.CrossEntropy(b.StudentLogits, b.Labels), soft = Losses.SoftTargetKl(b.StudentLogits, b.TeacherLogits, 2.0);
        Assert.Equal((0.1 * hard + 0.9 * soft).item<double>(), result.Total.item<double>(), 12);
        Assert.Equal(0.0, result.Features.item<double>());
        var metrics = result.Metrics();
        Assert.Equal(0.0, metrics["distill/layers/off"]);
        Assert.Equal(1.0, metrics["distill/layers_scale/off"]);
    }

    [Fact]
    public void No_tensor_outlives_its_result()
    {
        using var scope = NewDisposeScope();
        Batch b = MakeBatch();
        var on = new LayerwiseDistillationLoss();
        var off = new LayerwiseDistillationLoss { UseFeatures = false };
        // Each loss's state (its step counter, a buffer) is created on first use and lives with the loss.
        _ = on.ComputeState;
        _ = off.ComputeState;
        Assert.Equal(0, LiveTensors.AddedBy(3, () => on.Compute(b.StudentLogits, b.TeacherLogits, b.Labels, b.StudentHidden, b.TeacherHidden)));
        Assert.Equal(0, LiveTensors.AddedBy(3, () => off.Compute(b.StudentLogits, b.TeacherLogits, b.Labels, b.StudentHidden, b.TeacherHidden)));
    }

    [Fact]
    public void A_computed_lists_elements_are_made_when_first_read_and_belong_to_the_result()
    {
        using var outer = NewDisposeScope();
        Batch b = MakeBatch();
        var loss = new LayerwiseDistillationLoss();
        _ = loss.ComputeState;
        long before = LiveTensors.Count;
        var result = loss.Compute(b.StudentLogits, b.TeacherLogits, b.Labels, b.StudentHidden, b.TeacherHidden);
        long held = LiveTensors.Count;

        IReadOnlyList<Tensor> scales;
        using (NewDisposeScope())
        {
            scales = result.LayersScale; // read inside a scope that ends: the views are not the scope's
        }
        Assert.Equal(held + 2, LiveTensors.Count);
        Assert.Same(scales[0], result.LayersScale[0]); // made once
        double first = scales[0].item<double>();
        Assert.Equal(result.Metrics()["distill/layers_scale/layer1"], first);

        result.Dispose();
        Assert.Equal(before, LiveTensors.Count);
    }

    private static long Created()
        => DisposeScopeManager.Statistics.CreatedInScopeCount + DisposeScopeManager.Statistics.CreatedOutsideScopeCount;
}
