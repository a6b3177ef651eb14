using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// Balancing by gradients against PyTorch: each test replays a whole training run of
/// Reference/gradient_balancing.json (written by tests/reference/make_gradient_fixtures.py) with
/// the generated loss, on a network built from the fixture's initial weights, and compares every
/// step's values, scales or weights, and the trained weights at the end (float64, ≤ 1e-6).
/// </summary>
public class GradientBalancingTests
{
    private const double Tolerance = 1e-6;

    private static readonly JsonElement Reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder(), "Reference", "gradient_balancing.json"))).RootElement;

    private static string Folder([CallerFilePath] string source = "") => Path.GetDirectoryName(source)!;

    /// <summary>VQGAN's adaptive weight (Esser et al. 2021) over 300 steps of an autoencoder with a hinge discriminator.</summary>
    [Fact]
    public void VqganAdaptiveWeightMatchesItsTrajectory()
    {
        JsonElement fixture = Reference.GetProperty("vqgan");
        JsonElement settings = fixture.GetProperty("settings");
        double lr = settings.GetProperty("lr").GetDouble(), discLr = settings.GetProperty("disc_lr").GetDouble();
        using var scope = NewDisposeScope();
        Tensor x = Read(fixture.GetProperty("x"));
        Linear encoder = Layer(fixture, "encoder"), decoder = Layer(fixture, "decoder"), discriminator = Layer(fixture, "discriminator");
        var loss = new VqganLoss(decoder.weight!) { DiscriminatorWeight = settings.GetProperty("discriminator_weight").GetDouble() };
        Assert.Equal(fixture.GetProperty("formula").GetString(), FormulaOf(typeof(VqganLoss)));
        Parameter[] generator = encoder.parameters().Concat(decoder.parameters()).ToArray();

        Tensor Reconstruct() => decoder.forward(encoder.forward(x).tanh());

        JsonElement[] rows = fixture.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(300, rows.Length);
        for (int step = 0; step < rows.Length; step++)
        {
            using var stepScope = NewDisposeScope();
            Tensor reconstruction = Reconstruct();
            using (VqganResult result = loss.Compute(reconstruction, x, discriminator.forward(reconstruction)))
            {
                // Taking the gradients left nothing in .grad: the caller's backward() is the only one.
                Assert.All(generator.Concat(discriminator.parameters()), p => Assert.True(p.grad is null || p.grad.abs().max().item<double>() == 0));
                Expect(rows[step], "rec", result.Rec, step);
                Expect(rows[step], "gan", result.Gan, step);
                Expect(rows[step], "weight", result.GanScale, step);
                Expect(rows[step], "total", result.Total, step);
                Assert.False(result.GanScale.requires_grad);
                result.Total.backward();
            }
            if (step == 0)
            {
                JsonElement gradients = fixture.GetProperty("first_step_gradients");
                ExpectClose(gradients.GetProperty("encoder_weight"), encoder.weight!.grad!, "the encoder's weight gradient");
                ExpectClose(gradients.GetProperty("decoder_weight"), decoder.weight!.grad!, "the decoder's weight gradient");
                ExpectClose(gradients.GetProperty("decoder_bias"), decoder.bias!.grad!, "the decoder's bias gradient");
            }
            // The generator's loss reaches the discriminator too; its step does not use that.
            discriminator.zero_grad();
            Sgd(generator, lr);
            Tensor fake;
            using (no_grad())
            {
                fake = Reconstruct();
            }
            Tensor discLoss = nn.functional.relu(1 - discriminator.forward(x)).mean() + nn.functional.relu(1 + discriminator.forward(fake)).mean();
            discLoss.backward();
            Sgd(discriminator.parameters(), discLr);
            Expect(rows[step], "disc_loss", discLoss, step);
        }
        JsonElement final = fixture.GetProperty("final");
        ExpectClose(final.GetProperty("encoder_weight"), encoder.weight!, "the trained encoder");
        ExpectClose(final.GetProperty("decoder_weight"), decoder.weight!, "the trained decoder");
        ExpectClose(final.GetProperty("discriminator_weight"), discriminator.weight!, "the trained discriminator");
    }

    /// <summary>GradNorm (Chen et al. 2018) on a three-task network over 150 steps, resuming from a checkpoint of the loss state at step 70.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradNormMatchesItsTrajectory(bool resumeFromCheckpoint)
    {
        JsonElement fixture = Reference.GetProperty("gradnorm");
        JsonElement settings = fixture.GetProperty("settings");
        double lr = settings.GetProperty("lr").GetDouble();
        using var scope = NewDisposeScope();
        Tensor x = Read(fixture.GetProperty("x")), targets = Read(fixture.GetProperty("targets"));
        Linear trunk = Layer(fixture, "trunk");
        Linear[] heads = Enumerable.Range(0, 3).Select(i => Layer(fixture, $"head{i}")).ToArray();
        Parameter[] network = trunk.parameters().Concat(heads.SelectMany(h => h.parameters())).ToArray();
        var loss = new GradNormLoss(trunk.weight!);
        Assert.Equal(fixture.GetProperty("formula").GetString(), FormulaOf(typeof(GradNormLoss)));

        JsonElement[] rows = fixture.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(150, rows.Length);
        for (int step = 0; step < rows.Length; step++)
        {
            if (resumeFromCheckpoint && step == 70)
            {
                // A new loss object, its state loaded from what the old one saved: training goes on as if uninterrupted.
                using var checkpoint = new MemoryStream();
                loss.ComputeState.Save(checkpoint);
                loss = new GradNormLoss(trunk.weight!);
                checkpoint.Position = 0;
                loss.ComputeState.Load(checkpoint);
            }
            using var stepScope = NewDisposeScope();
            Tensor shared = trunk.forward(x).tanh();
            Tensor[] losses = heads.Select((head, i) => (head.forward(shared).squeeze(1) - targets[.., i]).pow(2).mean()).ToArray();
            using (GradNormResult result = loss.Compute(losses[0], losses[1], losses[2]))
            {
                double[] expectedWeights = Doubles(rows[step].GetProperty("weights"));
                Tensor[] weights = { result.AGradNormWeight, result.BGradNormWeight, result.CGradNormWeight };
                for (int i = 0; i < 3; i++)
                {
                    ExpectValue(Doubles(rows[step].GetProperty("losses"))[i], losses[i].item<double>(), $"loss {i} at step {step}");
                    ExpectValue(expectedWeights[i], weights[i].item<double>(), $"weight {i} at step {step}");
                }
                Expect(rows[step], "total", result.Total, step);
                Assert.Equal(0.0, result.SkippedUpdates.item<double>());
                result.Total.backward();
            }
            Sgd(network, lr);
        }
        double[] finalWeights = Doubles(fixture.GetProperty("final_weights"));
        Tensor stored = loss.ComputeState.Sites["gradnorm0"].Statistic("weights");
        for (int i = 0; i < 3; i++)
        {
            ExpectValue(finalWeights[i], stored[i].item<double>(), $"the final weight {i}");
        }
        double[] initialLosses = Doubles(fixture.GetProperty("initial_losses"));
        Tensor initial = loss.ComputeState.Sites["gradnorm0"].Statistic("initial");
        for (int i = 0; i < 3; i++)
        {
            ExpectValue(initialLosses[i], initial[i].item<double>(), $"the initial loss {i}");
        }
        ExpectClose(fixture.GetProperty("final").GetProperty("trunk_weight"), trunk.weight!, "the trained trunk");
    }

    /// <summary>Learning-rate annealing for a physics-informed network (Wang et al. 2021) over 200 steps, the gradients on the whole network.</summary>
    [Fact]
    public void AnnealingMatchesItsTrajectory()
    {
        JsonElement fixture = Reference.GetProperty("annealing");
        double lr = fixture.GetProperty("settings").GetProperty("lr").GetDouble();
        using var scope = NewDisposeScope();
        Tensor interior = Read(fixture.GetProperty("interior")), boundary = Read(fixture.GetProperty("boundary"));
        Linear first = Layer(fixture, "layer1"), second = Layer(fixture, "layer2");
        var network = nn.Sequential(("layer1", first), ("tanh", nn.Tanh()), ("layer2", second));
        var loss = new AnnealLoss(network);
        Assert.Equal(fixture.GetProperty("formula").GetString(), FormulaOf(typeof(AnnealLoss)));
        Tensor target = (Math.PI * interior).sin() * 5.0;

        JsonElement[] rows = fixture.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(200, rows.Length);
        for (int step = 0; step < rows.Length; step++)
        {
            using var stepScope = NewDisposeScope();
            Tensor residual = (network.forward(interior) - target).pow(2).mean();
            Tensor boundaryLoss = network.forward(boundary).pow(2).mean();
            using (AnnealResult result = loss.Compute(residual, boundaryLoss))
            {
                Expect(rows[step], "residual", residual, step);
                Expect(rows[step], "boundary", boundaryLoss, step);
                Expect(rows[step], "weight", result.BoundaryAnnealScale, step);
                Expect(rows[step], "total", result.Total, step);
                Assert.Equal(result.BoundaryAnnealScale.item<double>(), result.Metrics()["boundary_anneal_scale"]);
                result.Total.backward();
            }
            Sgd(network.parameters(), lr);
        }
        JsonElement final = fixture.GetProperty("final");
        ExpectClose(final.GetProperty("layer1_weight"), first.weight!, "the trained first layer");
        ExpectClose(final.GetProperty("layer2_weight"), second.weight!, "the trained second layer");
    }

    // ------------------------------------------------------------------ helpers

    private static string FormulaOf(Type loss)
        => loss.GetMethod("Compute")!.GetCustomAttribute<LossAttribute>()!.Formula;

    /// <summary>A Linear layer with the fixture's initial weight and bias for <paramref name="name"/>.</summary>
    private static Linear Layer(JsonElement fixture, string name)
    {
        JsonElement initial = fixture.GetProperty("initial");
        Tensor weight = Read(initial.GetProperty(name + "_weight")), bias = Read(initial.GetProperty(name + "_bias"));
        var layer = nn.Linear(weight.shape[1], weight.shape[0], dtype: ScalarType.Float64);
        using (no_grad())
        {
            layer.weight!.copy_(weight);
            layer.bias!.copy_(bias);
        }
        return layer;
    }

    private static void Sgd(IEnumerable<Parameter> parameters, double lr)
    {
        using var noGrad = no_grad();
        foreach (Parameter parameter in parameters)
        {
            if (parameter.grad is Tensor grad)
            {
                parameter.sub_(grad.mul(lr));
                grad.zero_();
            }
        }
    }

    private static Tensor Read(JsonElement tensor)
        => torch.tensor(Doubles(tensor.GetProperty("data")), tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), ScalarType.Float64);

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static void Expect(JsonElement row, string name, Tensor actual, int step)
        => ExpectValue(row.GetProperty(name).GetDouble(), actual.item<double>(), $"{name} at step {step}");

    private static void ExpectValue(double expected, double actual, string what)
        => Assert.True(Math.Abs(actual - expected) <= Tolerance * Math.Max(Math.Abs(expected), 1e-12),
            $"{what}: LossDsl {actual:R}, PyTorch {expected:R}");

    /// <summary>Element by element within the tolerance times the largest reference magnitude.</summary>
    private static void ExpectClose(JsonElement expected, Tensor actual, string what)
    {
        double[] reference = Doubles(expected.GetProperty("data"));
        double[] values = actual.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        Assert.Equal(reference.Length, values.Length);
        double scale = reference.Max(Math.Abs);
        for (int i = 0; i < reference.Length; i++)
        {
            Assert.True(Math.Abs(values[i] - reference[i]) <= Tolerance * scale, $"{what}[{i}]: LossDsl {values[i]:R}, PyTorch {reference[i]:R}");
        }
    }
}
