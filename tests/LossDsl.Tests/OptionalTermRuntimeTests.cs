using System;
using LossDsl.Testing;
using LossDsl.Tests.Fixtures;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// <c>If(switch, Term)</c> at run time: a switched-off term is not called, counts as a zero on the
/// device of the loss's inputs, and the rest of the loss and its gradients are what they are
/// without it. Term parameters with defaults receive their defaults.
/// </summary>
public class OptionalTermRuntimeTests
{
    private static (Tensor Logits, Tensor Teacher, Tensor Labels, Tensor Features, Tensor TeacherFeatures) Inputs(ScalarType dtype = ScalarType.Float32)
    {
        var generator = new TorchSharp.torch.Generator(7);
        Tensor logits = randn(new long[] { 4, 5 }, dtype: dtype, generator: generator).requires_grad_();
        Tensor teacher = randn(new long[] { 4, 5 }, dtype: dtype, generator: generator);
        Tensor labels = tensor(new long[] { 0, 3, 1, 4 });
        Tensor features = randn(new long[] { 4, 3 }, dtype: dtype, generator: generator).requires_grad_();
        Tensor teacherFeatures = randn(new long[] { 4, 3 }, dtype: dtype, generator: generator);
        return (logits, teacher, labels, features, teacherFeatures);
    }

    [Fact]
    public void A_switched_off_term_is_not_called_and_adds_nothing()
    {
        using var scope = NewDisposeScope();
        var (logits, teacher, labels, features, teacherFeatures) = Inputs();
        var loss = new SwitchedFeatureLoss { UseFeature = false };

        using var result = loss.Compute(logits, teacher, labels, features, teacherFeatures, useExtra: false);

        Assert.Equal(0, loss.FeatureCalls);
        Assert.Equal(0, loss.ExtraCalls);
        Assert.Equal(0.0, result.Feature.item<float>());
        Assert.Equal(0.0, result.Extra.item<float>());
        Assert.Equal(ScalarType.Float32, result.Feature.dtype);
        Assert.Equal(logits.device.ToString(), result.Feature.device.ToString());
        double hard = Losses.CrossEntropy(logits, labels).item<float>();
        double soft = Losses.SoftTargetKl(logits, teacher, 2.0).item<float>();
        Assert.Equal(hard + soft, result.Total.item<float>(), 5);
        Assert.Equal(1.0, result.FeatureScale.item<float>()); // a zero magnitude takes the guard: scale 1
        var metrics = result.Metrics();
        Assert.Equal(0.0, metrics["feature"]);
        Assert.Equal(0.0, metrics["extra"]);

        result.Total.backward();
        Assert.Null(features.grad); // the switched-off term took no part in the graph
        Assert.NotNull(logits.grad);
    }

    [Fact]
    public void A_switched_on_term_is_called_once_and_balanced_as_without_the_switch()
    {
        using var scope = NewDisposeScope();
        var (logits, teacher, labels, features, teacherFeatures) = Inputs(ScalarType.Float64);
        var loss = new SwitchedFeatureLoss();

        using var result = loss.Compute(logits, teacher, labels, features, teacherFeatures, useExtra: true);

        Assert.Equal(1, loss.FeatureCalls);
        Assert.Equal(1, loss.ExtraCalls);
        double soft = Losses.SoftTargetKl(logits, teacher, 2.0).item<double>();
        double feature = Losses.Mse(features, teacherFeatures).item<double>();
        double extra = features.pow(2).mean().item<double>();
        double hard = Losses.CrossEntropy(logits, labels).item<double>();
        Assert.Equal(feature, result.Feature.item<double>(), 12);
        Assert.Equal(soft / feature, result.FeatureScale.item<double>(), 12);
        Assert.Equal(hard + soft + soft + extra, result.Total.item<double>(), 12);

        result.Total.backward();
        // d/dfeatures of (scale · Mse + mean(f²)) with the scale a constant: 2·scale·(f − t)/n + 2f/n.
        Tensor expected = (features - teacherFeatures).mul(2 * soft / feature / features.numel()).add(features.detach().mul(2.0 / features.numel()));
        Assert.True(allclose(features.grad!, expected, rtol: 1e-12, atol: 1e-14));
    }

    [Fact]
    public void The_switch_is_read_on_every_call()
    {
        using var scope = NewDisposeScope();
        var (logits, teacher, labels, features, teacherFeatures) = Inputs();
        var loss = new SwitchedFeatureLoss();
        for (int i = 0; i < 4; i++)
        {
            loss.UseFeature = i % 2 == 0;
            using var result = loss.Compute(logits, teacher, labels, features, teacherFeatures, useExtra: i >= 2);
        }
        Assert.Equal(2, loss.FeatureCalls);
        Assert.Equal(2, loss.ExtraCalls);
    }

    [Fact]
    public void No_tensor_is_left_alive_on_or_off()
    {
        using var scope = NewDisposeScope();
        var (logits, teacher, labels, features, teacherFeatures) = Inputs();
        var on = new SwitchedFeatureLoss();
        var off = new SwitchedFeatureLoss { UseFeature = false };
        Assert.Equal(0, LiveTensors.AddedBy(3, () => on.Compute(logits, teacher, labels, features, teacherFeatures, useExtra: true)));
        Assert.Equal(0, LiveTensors.AddedBy(3, () => off.Compute(logits, teacher, labels, features, teacherFeatures, useExtra: false)));
    }

    [Fact]
    public void A_term_parameter_the_loss_does_not_supply_takes_its_default()
    {
        using var scope = NewDisposeScope();
        var (logits, teacher, _, _, _) = Inputs(ScalarType.Float64);
        double atTwo = Losses.SoftTargetKl(logits, teacher, 2.0).item<double>();
        double atFour = Losses.SoftTargetKl(logits, teacher, 4.0).item<double>();
        Assert.NotEqual(atTwo, atFour, 6);

        using var byDefault = new SwitchedFeatureLoss().Compute(logits, teacher, tensor(new long[] { 0, 1, 2, 3 }), zeros(4, 3), zeros(4, 3), useExtra: false);
        Assert.Equal(atTwo, byDefault.Soft.item<double>(), 12);

        using Tensor supplied = new SuppliedTemperatureLoss().Compute(logits, teacher, 4.0);
        Assert.Equal(atFour, supplied.item<double>(), 12);
    }
}
