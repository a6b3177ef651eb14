using System;
using System.Linq;
using LossDsl.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The term library's options (label smoothing, class and element weights, masks, ignore index,
/// temperature) leave no intermediate tensor alive, and half-precision inputs are computed in
/// float32: the result equals the same call on the inputs upcast to float32 by hand.
/// </summary>
public class LossLibraryHygieneTests
{
    public static TheoryData<string> Names => new()
    {
        "CrossEntropy", "CrossEntropyProbabilities", "Mse", "L1", "SmoothL1", "Huber", "BinaryCrossEntropyWithLogits", "Focal",
        "ReverseKl", "JensenShannon", "TopKKl",
        // The chunked path (Chunking.Rows) of the class-dimension terms.
        "CrossEntropyChunked", "SoftTargetKlChunked", "ReverseKlChunked", "JensenShannonChunked", "TopKKlChunked",
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Term_WithEveryOption_LeavesNoIntermediateTensorAlive(string name)
    {
        using var outer = NewDisposeScope(); // a leaked intermediate lands here: counted, then freed when the test ends
        var inputs = Inputs(ScalarType.Float16, requiresGrad: true);
        Func<Tensor> call = () => Call(name, inputs);

        long added = LiveTensors.AddedBy(50, call);

        Assert.Equal(0, added);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Term_HalfPrecision_IsComputedInFloat32(string name)
    {
        foreach (var type in new[] { ScalarType.Float16, ScalarType.BFloat16 })
        {
            using var scope = NewDisposeScope();
            var half = Inputs(type, requiresGrad: false);
            var upcast = new TermInputs(
                half.X.to(ScalarType.Float32), half.Y.to(ScalarType.Float32), half.Probabilities.to(ScalarType.Float32), half.Labels, half.Mask,
                half.PositionMask, half.Weight.to(ScalarType.Float32), half.ClassWeight.to(ScalarType.Float32));

            var fromHalf = Call(name, half);
            var fromFloat = Call(name, upcast);

            Assert.Equal(ScalarType.Float32, fromHalf.dtype);
            Assert.Equal(fromFloat.item<float>(), fromHalf.item<float>());
        }
    }

    private sealed record TermInputs(
        Tensor X, Tensor Y, Tensor Probabilities, Tensor Labels, Tensor Mask, Tensor PositionMask, Tensor Weight, Tensor ClassWeight);

    private static TermInputs Inputs(ScalarType type, bool requiresGrad)
    {
        var generator = new torch.Generator(409);
        var x = (torch.randn(new long[] { 4, 6, 5 }, generator: generator) * 3).to(type);
        var y = (torch.randn(new long[] { 4, 6, 5 }, generator: generator) * 3).to(type);
        var probabilities = torch.softmax(torch.randn(new long[] { 4, 6, 5 }, generator: generator), -1).to(type);
        var labels = torch.randint(0, 5, new long[] { 4, 6 }, generator: generator);
        labels[0, 0] = torch.tensor(-100L);
        var mask = torch.tensor(Enumerable.Range(0, 120).Select(i => i % 7 != 2).ToArray()).reshape(4, 6, 5);
        var positionMask = torch.tensor(Enumerable.Range(0, 24).Select(i => i % 4 != 1).ToArray()).reshape(4, 6);
        var weight = torch.rand(new long[] { 4, 6, 5 }, generator: generator).to(type);
        var classWeight = (torch.rand(new long[] { 5 }, generator: generator) + 0.5).to(type);
        return new TermInputs(requiresGrad ? x.requires_grad_(true) : x, y, probabilities, labels, mask, positionMask, weight, classWeight);
    }

    private static Tensor Call(string name, TermInputs t) => name switch
    {
        "CrossEntropy" => Losses.CrossEntropy(t.X, t.Labels, mask: t.PositionMask, labelSmoothing: 0.1, weight: t.ClassWeight),
        "CrossEntropyProbabilities" => Losses.CrossEntropy(t.X, t.Probabilities, mask: t.PositionMask, labelSmoothing: 0.1, weight: t.ClassWeight),
        "Mse" => Losses.Mse(t.X, t.Y, t.Mask, t.Weight),
        "L1" => Losses.L1(t.X, t.Y, t.Mask, t.Weight),
        "SmoothL1" => Losses.SmoothL1(t.X, t.Y, 0.7, t.Mask, t.Weight),
        "Huber" => Losses.Huber(t.X, t.Y, 1.3, t.Mask, t.Weight),
        "BinaryCrossEntropyWithLogits" => Losses.BinaryCrossEntropyWithLogits(t.X, t.Probabilities, t.Weight, t.ClassWeight, t.Mask),
        "Focal" => Losses.Focal(t.X, t.Probabilities, 0.25, 2.0, t.Mask),
        "ReverseKl" => Losses.ReverseKl(t.X, t.Y, 2.0, t.Labels, mask: t.PositionMask),
        "JensenShannon" => Losses.JensenShannon(t.X, t.Y, 0.3, 2.0, t.Labels, mask: t.PositionMask),
        "TopKKl" => Losses.TopKKl(t.X, t.Y, 3, 2.0, t.Labels, mask: t.PositionMask),
        "CrossEntropyChunked" => Losses.CrossEntropy(
            t.X, t.Labels, mask: t.PositionMask, labelSmoothing: 0.1, weight: t.ClassWeight, chunking: Chunking.Rows(5)),
        "SoftTargetKlChunked" => Losses.SoftTargetKl(t.X, t.Y, 2.0, Chunking.Rows(5)),
        "ReverseKlChunked" => Losses.ReverseKl(t.X, t.Y, 2.0, t.Labels, mask: t.PositionMask, chunking: Chunking.Rows(5)),
        "JensenShannonChunked" => Losses.JensenShannon(t.X, t.Y, 0.3, 2.0, t.Labels, mask: t.PositionMask, chunking: Chunking.Rows(5)),
        "TopKKlChunked" => Losses.TopKKl(t.X, t.Y, 3, 2.0, t.Labels, mask: t.PositionMask, chunking: Chunking.Rows(5)),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a term of this test"),
    };
}
