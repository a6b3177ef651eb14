using System;
using System.Linq;
using TorchSharp;
using Xunit;
using LossDsl.Testing;
using static LossDsl.Tests.HandComputed;
using static LossDsl.Tests.RelativeTolerance;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// <see cref="Losses"/> against independent references computed by hand in double precision
/// from the input tensors' values (no torch ops in the references).
/// </summary>
public class LossesTests
{
    private const double Float64Tolerance = 1e-9;
    private const double Float32Tolerance = 1e-5;

    // ---------------------------------------------------------------- CrossEntropy

    [Theory]
    [InlineData(1, new long[] { 8, 10 })]
    [InlineData(2, new long[] { 3, 5, 7 })]
    [InlineData(3, new long[] { 2, 3, 4, 6 })]
    [InlineData(4, new long[] { 6 })]
    [InlineData(5, new long[] { 1, 2 })]
    public void CrossEntropy_IndexLabels_MatchesReference(int seed, long[] shape)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        var logits = RandomTensor(rng, shape, scale: 3);
        var labels = RandomLabels(rng, shape);

        var loss = Losses.CrossEntropy(logits, labels);

        Assert.Equal(0, loss.Dimensions);
        Assert.Equal(ScalarType.Float64, loss.dtype);
        var expected = RefCrossEntropyIndex(Read(logits), ReadLongs(labels), Classes(shape), ignoreIndex: -100, keep: null);
        AssertClose(expected, loss.item<double>(), Float64Tolerance);
    }

    [Fact]
    public void CrossEntropy_Int32Labels_EqualInt64Labels()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(11);
        long[] shape = { 5, 9 };
        var logits = RandomTensor(rng, shape);
        var labels = RandomLabels(rng, shape);

        var from64 = Losses.CrossEntropy(logits, labels).item<double>();
        var from32 = Losses.CrossEntropy(logits, labels.to(ScalarType.Int32)).item<double>();

        Assert.Equal(from64, from32);
        AssertClose(RefCrossEntropyIndex(Read(logits), ReadLongs(labels), 9, -100, null), from32, Float64Tolerance);
    }

    [Fact]
    public void CrossEntropy_IgnoreIndex_ExcludesPositionsFromSumAndCount()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(21);
        long[] shape = { 6, 4 };
        var logits = RandomTensor(rng, shape, scale: 3, requiresGrad: true);
        long[] labelValues = { 1, -100, 3, 0, -100, 2 };
        var labels = tensor(labelValues);

        var loss = Losses.CrossEntropy(logits, labels);
        loss.backward();

        var logitValues = Read(logits);
        var expected = RefCrossEntropyIndex(logitValues, labelValues, 4, -100, null);
        AssertClose(expected, loss.item<double>(), Float64Tolerance);
        // The reference really dropped something: over the four kept rows only, the mean differs
        // from the mean that would count the ignored rows as zero-loss positions.
        Assert.NotEqual(expected * 4 / 6, loss.item<double>(), 6);

        // Gradient: (softmax - onehot) / kept count on kept rows, exactly zero on ignored rows.
        var grad = Read(logits.grad!);
        for (int row = 0; row < 6; row++)
        {
            var p = Softmax(logitValues, row * 4, 4);
            for (int k = 0; k < 4; k++)
            {
                double want = labelValues[row] == -100 ? 0 : (p[k] - (k == labelValues[row] ? 1 : 0)) / 4;
                Assert.Equal(want, grad[row * 4 + k], 12);
            }
        }
    }

    [Fact]
    public void CrossEntropy_IgnoreIndexThatIsAValidClass_ExcludesThatClass()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(22);
        long[] shape = { 10, 5 };
        var logits = RandomTensor(rng, shape, scale: 2);
        long[] labelValues = { 0, 2, 2, 4, 1, 2, 3, 0, 2, 1 };

        var loss = Losses.CrossEntropy(logits, tensor(labelValues), ignoreIndex: 2).item<double>();
        var unignored = Losses.CrossEntropy(logits, tensor(labelValues)).item<double>();

        AssertClose(RefCrossEntropyIndex(Read(logits), labelValues, 5, 2, null), loss, Float64Tolerance);
        Assert.NotEqual(unignored, loss, 6);
    }

    [Theory]
    [InlineData(ScalarType.Bool)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Byte)]
    public void CrossEntropy_Mask_ExcludesPositions(ScalarType maskType)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(31);
        long[] shape = { 2, 5, 6 };
        var logits = RandomTensor(rng, shape, scale: 3);
        var labels = RandomLabels(rng, shape);
        bool[] keep = { true, false, true, true, false, false, true, true, false, true };
        var mask = tensor(keep).reshape(2, 5).to(maskType);

        var loss = Losses.CrossEntropy(logits, labels, mask: mask).item<double>();
        var unmasked = Losses.CrossEntropy(logits, labels).item<double>();

        AssertClose(RefCrossEntropyIndex(Read(logits), ReadLongs(labels), 6, -100, keep), loss, Float64Tolerance);
        Assert.NotEqual(unmasked, loss, 6);
    }

    [Fact]
    public void CrossEntropy_MaskAndIgnoreIndex_Combine()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(32);
        var logits = RandomTensor(rng, new long[] { 6, 3 }, scale: 2);
        long[] labelValues = { 0, -100, 2, 1, 1, -100 };
        bool[] keep = { true, true, false, true, true, true };

        var loss = Losses.CrossEntropy(logits, tensor(labelValues), mask: tensor(keep)).item<double>();

        // Kept positions: 0, 3, 4 (1 and 5 ignored, 2 masked).
        AssertClose(RefCrossEntropyIndex(Read(logits), labelValues, 3, -100, keep), loss, Float64Tolerance);
    }

    [Fact]
    public void CrossEntropy_AllMaskedOrAllIgnored_IsZeroNotNaN_AndBackwardWorks()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(41);
        long[] shape = { 4, 3 };
        var logits = RandomTensor(rng, shape, requiresGrad: true);
        var labels = RandomLabels(rng, shape);

        var allMasked = Losses.CrossEntropy(logits, labels, mask: zeros(4, dtype: ScalarType.Bool));
        var allIgnored = Losses.CrossEntropy(logits, full(4, -100L, dtype: ScalarType.Int64));
        var probabilitiesAllMasked = Losses.CrossEntropy(logits, softmax(RandomTensor(rng, shape), -1), mask: zeros(4));

        Assert.Equal(0.0, allMasked.item<double>());
        Assert.Equal(0.0, allIgnored.item<double>());
        Assert.Equal(0.0, probabilitiesAllMasked.item<double>());
        Assert.True(allMasked.requires_grad);

        allMasked.backward();
        Assert.All(Read(logits.grad!), g => Assert.Equal(0.0, g));
    }

    [Fact]
    public void CrossEntropy_ExcludedPositionWithInfiniteLoss_DoesNotPoisonTheMean()
    {
        using var scope = NewDisposeScope();
        // Row 1's label class has logit -inf: its loss is +inf, but the row is masked out.
        var logits = tensor(new[] { 1.0, 2.0, 0.5, double.NegativeInfinity, 0.0, 1.0 }, new long[] { 2, 3 });
        long[] labelValues = { 2, 0 };

        var loss = Losses.CrossEntropy(logits, tensor(labelValues), mask: tensor(new[] { true, false })).item<double>();

        AssertClose(RefCrossEntropyIndex(Read(logits), labelValues, 3, -100, new[] { true, false }), loss, Float64Tolerance);
    }

    [Theory]
    [InlineData(51, new long[] { 7, 5 })]
    [InlineData(52, new long[] { 2, 3, 8 })]
    [InlineData(53, new long[] { 4 })]
    public void CrossEntropy_OneHotLabels_EqualIndexLabels(int seed, long[] shape)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        var logits = RandomTensor(rng, shape, scale: 3);
        var labels = RandomLabels(rng, shape);
        var oneHot = nn.functional.one_hot(labels, Classes(shape)).to(ScalarType.Float64);

        var fromIndex = Losses.CrossEntropy(logits, labels).item<double>();
        var fromOneHot = Losses.CrossEntropy(logits, oneHot).item<double>();

        AssertClose(fromIndex, fromOneHot, 1e-12);
    }

    [Theory]
    [InlineData(61, new long[] { 8, 6 })]
    [InlineData(62, new long[] { 3, 4, 5 })]
    [InlineData(63, new long[] { 9 })]
    public void CrossEntropy_ProbabilityLabels_MatchesReference(int seed, long[] shape)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        var logits = RandomTensor(rng, shape, scale: 3);
        var probabilities = softmax(RandomTensor(rng, shape, scale: 2), -1);

        var loss = Losses.CrossEntropy(logits, probabilities).item<double>();

        AssertClose(RefCrossEntropyProbabilities(Read(logits), Read(probabilities), Classes(shape), null), loss, Float64Tolerance);
    }

    [Fact]
    public void CrossEntropy_ProbabilityLabels_WithMaskAndZeroProbabilityOnMinusInfinityLogit()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new[] { double.NegativeInfinity, 1.0, 2.0, 0.3, -0.7, 1.1, 2.0, 0.0, -1.0 }, new long[] { 3, 3 });
        var probabilities = tensor(new[] { 0.0, 0.25, 0.75, 0.2, 0.3, 0.5, 1.0, 0.0, 0.0 }, new long[] { 3, 3 });
        bool[] keep = { true, false, true };

        var loss = Losses.CrossEntropy(logits, probabilities, mask: tensor(keep)).item<double>();

        Assert.True(double.IsFinite(loss));
        AssertClose(RefCrossEntropyProbabilities(Read(logits), Read(probabilities), 3, keep), loss, Float64Tolerance);
    }

    [Theory]
    [InlineData(71)]
    [InlineData(72)]
    [InlineData(73)]
    public void CrossEntropy_Float32_MatchesReference(int seed)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        long[] shape = { 4, 8, 12 };
        var logits = RandomTensor(rng, shape, scale: 3, type: ScalarType.Float32);
        var labels = RandomLabels(rng, shape);
        var mask = tensor(Enumerable.Range(0, 32).Select(i => i % 3 != 0).ToArray()).reshape(4, 8);

        var loss = Losses.CrossEntropy(logits, labels, mask: mask);

        Assert.Equal(ScalarType.Float32, loss.dtype);
        var keep = Enumerable.Range(0, 32).Select(i => i % 3 != 0).ToArray();
        AssertClose(RefCrossEntropyIndex(Read(logits), ReadLongs(labels), 12, -100, keep), loss.item<float>(), Float32Tolerance);
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void CrossEntropy_HalfPrecision_ComputesInFloat32(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(81);
        long[] shape = { 16, 50 };
        var logits = RandomTensor(rng, shape, scale: 4, type: type);
        var labels = RandomLabels(rng, shape);

        var loss = Losses.CrossEntropy(logits, labels);

        Assert.Equal(ScalarType.Float32, loss.dtype);
        // The reference uses the exact half-precision input values; a half-precision computation
        // would be off by about 1e-3, a float32 one by about 1e-7.
        AssertClose(RefCrossEntropyIndex(Read(logits), ReadLongs(labels), 50, -100, null), loss.item<float>(), Float32Tolerance);
    }

    [Fact]
    public void CrossEntropy_ShapeMismatch_NamesBothShapes()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(8, 10, dtype: ScalarType.Float64);

        var indexError = Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, zeros(8, 3, dtype: ScalarType.Int64)));
        AssertMentions(indexError, "[8, 10]", "[8, 3]");
        Assert.Equal("labels", indexError.ParamName);

        var probabilityError = Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, zeros(8, 12, dtype: ScalarType.Float64)));
        AssertMentions(probabilityError, "[8, 10]", "[8, 12]");

        var maskError = Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, zeros(8, dtype: ScalarType.Int64), mask: ones(7, dtype: ScalarType.Bool)));
        AssertMentions(maskError, "[8, 10]", "[7]");
        Assert.Equal("mask", maskError.ParamName);
    }

    [Fact]
    public void CrossEntropy_BadDtypesAndNulls_Throw()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(4, 3, dtype: ScalarType.Float32);
        var labels = zeros(4, dtype: ScalarType.Int64);

        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(zeros(4, 3, dtype: ScalarType.Int64), labels));
        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, zeros(4, dtype: ScalarType.Int16)));
        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, zeros(4, 3, dtype: ScalarType.Bool)));
        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(zeros(Array.Empty<long>()), zeros(Array.Empty<long>(), dtype: ScalarType.Int64)));
        Assert.Equal("logits", Assert.Throws<ArgumentNullException>(() => Losses.CrossEntropy(null!, labels)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => Losses.CrossEntropy(logits, null!)).ParamName);
    }

    // ---------------------------------------------------------------- SoftTargetKl

    [Theory]
    [InlineData(101, new long[] { 8, 10 }, 1.0)]
    [InlineData(102, new long[] { 3, 4, 7 }, 2.0)]
    [InlineData(103, new long[] { 5, 6 }, 0.5)]
    [InlineData(104, new long[] { 12 }, 4.0)]
    [InlineData(105, new long[] { 2, 2, 2, 9 }, 8.0)]
    public void SoftTargetKl_MatchesReference(int seed, long[] shape, double temperature)
    {
        // The default path, then the chunked one in chunks of one and of three rows.
        foreach (var chunking in new[] { Chunking.Auto, Chunking.Rows(1), Chunking.Rows(3) })
        {
            using var scope = NewDisposeScope();
            var rng = new Random(seed);
            var student = RandomTensor(rng, shape, scale: 3);
            var teacher = RandomTensor(rng, shape, scale: 3);

            var loss = Losses.SoftTargetKl(student, teacher, temperature, chunking);

            Assert.Equal(0, loss.Dimensions);
            Assert.Equal(ScalarType.Float64, loss.dtype);
            AssertClose(RefKl(Read(student), Read(teacher), Classes(shape), temperature), loss.item<double>(), Float64Tolerance);
        }
    }

    [Fact]
    public void SoftTargetKl_IdenticalLogits_IsZero_AndSwappingChangesIt()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(106);
        var a = RandomTensor(rng, new long[] { 5, 7 }, scale: 3);
        var b = RandomTensor(rng, new long[] { 5, 7 }, scale: 3);

        Assert.Equal(0.0, Losses.SoftTargetKl(a, a, 2.0).item<double>(), 14);
        // KL is not symmetric; the teacher is the second argument.
        var forward = Losses.SoftTargetKl(a, b, 2.0).item<double>();
        var backward = Losses.SoftTargetKl(b, a, 2.0).item<double>();
        AssertClose(RefKl(Read(a), Read(b), 7, 2.0), forward, Float64Tolerance);
        Assert.NotEqual(forward, backward, 6);
    }

    [Theory]
    [InlineData(1.0, false)]
    [InlineData(3.0, false)]
    [InlineData(1.0, true)]
    [InlineData(3.0, true)]
    public void SoftTargetKl_GradientFlowsToStudentOnly(double temperature, bool chunked)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(111);
        long[] shape = { 4, 6 };
        var student = RandomTensor(rng, shape, scale: 2, requiresGrad: true);
        var teacher = RandomTensor(rng, shape, scale: 2, requiresGrad: true);

        var loss = Losses.SoftTargetKl(student, teacher, temperature, chunked ? Chunking.Rows(3) : Chunking.Off);
        Assert.True(loss.requires_grad);
        loss.backward();

        Assert.Null(teacher.grad);
        Assert.NotNull(student.grad);
        // d/ds [T² · mean KL] = T · (softmax(s/T) − softmax(t/T)) / positions.
        var s = Read(student);
        var t = Read(teacher);
        var grad = Read(student.grad!);
        for (int row = 0; row < 4; row++)
        {
            var ps = Softmax(s.Select(v => v / temperature).ToArray(), row * 6, 6);
            var pt = Softmax(t.Select(v => v / temperature).ToArray(), row * 6, 6);
            for (int k = 0; k < 6; k++)
            {
                Assert.Equal(temperature * (ps[k] - pt[k]) / 4, grad[row * 6 + k], 12);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SoftTargetKl_MinusInfinityInBothLogits_StaysFinite(bool chunked)
    {
        using var scope = NewDisposeScope();
        var chunking = chunked ? Chunking.Rows(1) : Chunking.Off;
        double ninf = double.NegativeInfinity;
        // Class 0 is masked out (logit -inf) in both models: p_t = 0 and log p_s = -inf there.
        var student = tensor(new[] { ninf, 1.0, 0.5, 2.0, ninf, -1.0, 0.0, 0.3 }, new long[] { 2, 4 }).requires_grad_(true);
        var teacher = tensor(new[] { ninf, 0.2, 1.5, -0.4, ninf, 0.7, 0.1, -2.0 }, new long[] { 2, 4 });

        var loss = Losses.SoftTargetKl(student, teacher, 2.0, chunking);
        loss.backward();

        Assert.True(double.IsFinite(loss.item<double>()));
        AssertClose(RefKl(Read(student), Read(teacher), 4, 2.0), loss.item<double>(), Float64Tolerance);
        Assert.All(Read(student.grad!), g => Assert.True(double.IsFinite(g)));
    }

    [Theory]
    [InlineData(121)]
    [InlineData(122)]
    public void SoftTargetKl_Float32_MatchesReference(int seed)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        long[] shape = { 6, 5, 11 };
        var student = RandomTensor(rng, shape, scale: 3, type: ScalarType.Float32);
        var teacher = RandomTensor(rng, shape, scale: 3, type: ScalarType.Float32);

        var loss = Losses.SoftTargetKl(student, teacher, 2.0);

        Assert.Equal(ScalarType.Float32, loss.dtype);
        AssertClose(RefKl(Read(student), Read(teacher), 11, 2.0), loss.item<float>(), Float32Tolerance);
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void SoftTargetKl_HalfPrecision_ComputesInFloat32(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(131);
        long[] shape = { 8, 40 };
        var student = RandomTensor(rng, shape, scale: 3, type: type);
        var teacher = RandomTensor(rng, shape, scale: 3, type: type);

        var loss = Losses.SoftTargetKl(student, teacher, 1.5);

        Assert.Equal(ScalarType.Float32, loss.dtype);
        AssertClose(RefKl(Read(student), Read(teacher), 40, 1.5), loss.item<float>(), Float32Tolerance);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void SoftTargetKl_InvalidTemperature_Throws(double temperature)
    {
        using var scope = NewDisposeScope();
        var logits = zeros(2, 3, dtype: ScalarType.Float32);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftTargetKl(logits, logits, temperature));

        Assert.Equal("temperature", error.ParamName);
        Assert.Contains(temperature.ToString(), error.Message);
    }

    [Fact]
    public void SoftTargetKl_ShapeMismatch_NamesBothShapes()
    {
        using var scope = NewDisposeScope();

        var error = Assert.Throws<ArgumentException>(() =>
            Losses.SoftTargetKl(zeros(8, 10), zeros(8, 12), 1.0));

        Assert.Contains("student logits [8, 10] and teacher logits [8, 12] must have the same shape", error.Message);
        Assert.Throws<ArgumentException>(() => Losses.SoftTargetKl(zeros(Array.Empty<long>()), zeros(Array.Empty<long>()), 1.0));
        Assert.Throws<ArgumentException>(() => Losses.SoftTargetKl(zeros(3, dtype: ScalarType.Int32), zeros(3, dtype: ScalarType.Int32), 1.0));
        Assert.Equal("studentLogits", Assert.Throws<ArgumentNullException>(() => Losses.SoftTargetKl(null!, zeros(3), 1.0)).ParamName);
        Assert.Equal("teacherLogits", Assert.Throws<ArgumentNullException>(() => Losses.SoftTargetKl(zeros(3), null!, 1.0)).ParamName);
    }

    // ---------------------------------------------------------------- CosineDistance

    [Theory]
    [InlineData(201, new long[] { 8, 16 })]
    [InlineData(202, new long[] { 3, 4, 5 })]
    [InlineData(203, new long[] { 7 })]
    [InlineData(204, new long[] { 10, 2 })]
    public void CosineDistance_MatchesReference(int seed, long[] shape)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        var a = RandomTensor(rng, shape);
        var b = RandomTensor(rng, shape);

        var loss = Losses.CosineDistance(a, b);

        Assert.Equal(0, loss.Dimensions);
        Assert.Equal(ScalarType.Float64, loss.dtype);
        AssertClose(RefCosineDistance(Read(a), Read(b), Classes(shape)), loss.item<double>(), Float64Tolerance);
    }

    [Fact]
    public void CosineDistance_ZeroVector_UsesEpsInsteadOfNaN()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 0.0, 0.0, 0.0, 1.0, 2.0, 3.0 }, new long[] { 2, 3 }).requires_grad_(true);
        var b = tensor(new[] { 1.0, -1.0, 2.0, 2.0, 4.0, 6.0 }, new long[] { 2, 3 });

        var loss = Losses.CosineDistance(a, b);
        loss.backward();

        // Row 0: cos = 0 (distance 1); row 1: parallel (distance 0).
        Assert.Equal(0.5, loss.item<double>(), 12);
        Assert.All(Read(a.grad!), g => Assert.True(double.IsFinite(g)));
    }

    [Fact]
    public void CosineDistance_GradientFlowsToBothInputs()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(205);
        var a = RandomTensor(rng, new long[] { 3, 4 }, requiresGrad: true);
        var b = RandomTensor(rng, new long[] { 3, 4 }, requiresGrad: true);

        Losses.CosineDistance(a, b).backward();

        Assert.Contains(Read(a.grad!), g => g != 0);
        Assert.Contains(Read(b.grad!), g => g != 0);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void CosineDistance_LowerPrecision_ComputesInFloat32(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(211);
        long[] shape = { 6, 3, 32 };
        var a = RandomTensor(rng, shape, type: type);
        var b = RandomTensor(rng, shape, type: type);

        var loss = Losses.CosineDistance(a, b);

        Assert.Equal(ScalarType.Float32, loss.dtype);
        AssertClose(RefCosineDistance(Read(a), Read(b), 32), loss.item<float>(), Float32Tolerance);
    }

    [Fact]
    public void CosineDistance_ShapeMismatch_NamesBothShapes()
    {
        using var scope = NewDisposeScope();

        var error = Assert.Throws<ArgumentException>(() => Losses.CosineDistance(zeros(4, 5), zeros(5, 4)));

        AssertMentions(error, "[4, 5]", "[5, 4]");
        Assert.Throws<ArgumentException>(() => Losses.CosineDistance(zeros(Array.Empty<long>()), zeros(Array.Empty<long>())));
        Assert.Equal("a", Assert.Throws<ArgumentNullException>(() => Losses.CosineDistance(null!, zeros(3))).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentNullException>(() => Losses.CosineDistance(zeros(3), null!)).ParamName);
    }

    // ---------------------------------------------------------------- Mse

    [Theory]
    [InlineData(301, new long[] { 8, 16 })]
    [InlineData(302, new long[] { 2, 3, 4, 5 })]
    [InlineData(303, new long[] { 1 })]
    [InlineData(304, new long[0])]
    public void Mse_MatchesReference_AndGradient(int seed, long[] shape)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        var a = RandomTensor(rng, shape, requiresGrad: true);
        var b = RandomTensor(rng, shape);

        var loss = Losses.Mse(a, b);
        loss.backward();

        Assert.Equal(0, loss.Dimensions);
        var av = Read(a);
        var bv = Read(b);
        AssertClose(RefMse(av, bv), loss.item<double>(), Float64Tolerance);
        var grad = Read(a.grad!);
        for (int i = 0; i < av.Length; i++)
        {
            Assert.Equal(2 * (av[i] - bv[i]) / av.Length, grad[i], 12);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void Mse_LowerPrecision_ComputesInFloat32(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(311);
        long[] shape = { 20, 30 };
        var a = RandomTensor(rng, shape, type: type);
        var b = RandomTensor(rng, shape, type: type);

        var loss = Losses.Mse(a, b);

        Assert.Equal(ScalarType.Float32, loss.dtype);
        AssertClose(RefMse(Read(a), Read(b)), loss.item<float>(), Float32Tolerance);
    }

    [Fact]
    public void Mse_ShapeMismatch_NamesBothShapes()
    {
        using var scope = NewDisposeScope();

        var error = Assert.Throws<ArgumentException>(() => Losses.Mse(zeros(3, 4), zeros(12)));

        AssertMentions(error, "[3, 4]", "[12]");
        Assert.Equal("a", Assert.Throws<ArgumentNullException>(() => Losses.Mse(null!, zeros(3))).ParamName);
    }

    // ---------------------------------------------------------------- All functions

    [Fact]
    public void AllLosses_RunOnTheMetaDevice_SoNoneReadsTensorData()
    {
        // Meta tensors have shapes and dtypes but no storage: any host read (.item(), data<T>(),
        // a copy to the CPU) throws. So these calls succeeding shows that the losses never
        // synchronise with the device.
        using var scope = NewDisposeScope();
        var meta = new Device(DeviceType.META);
        var logits = empty(new long[] { 4, 5, 6 }, device: meta);
        var labels = empty(new long[] { 4, 5 }, dtype: ScalarType.Int64, device: meta);
        var mask = empty(new long[] { 4, 5 }, dtype: ScalarType.Bool, device: meta);
        var probabilities = empty(new long[] { 4, 5, 6 }, dtype: ScalarType.Float16, device: meta);

        Tensor[] results =
        {
            Losses.CrossEntropy(logits, labels, mask: mask),
            Losses.CrossEntropy(logits, probabilities, mask: mask),
            Losses.SoftTargetKl(logits, probabilities, 2.0),
            Losses.CosineDistance(logits, probabilities),
            Losses.Mse(logits, probabilities),
        };

        Assert.All(results, r =>
        {
            Assert.Equal(DeviceType.META, r.device_type);
            Assert.Equal(0, r.Dimensions);
            Assert.Equal(ScalarType.Float32, r.dtype);
        });
        // The premise: reading a meta tensor does throw.
        Assert.ThrowsAny<Exception>(() => results[0].item<float>());
    }

    [Fact]
    public void AllLosses_InputsOnDifferentDevices_Throw()
    {
        using var scope = NewDisposeScope();
        var meta = new Device(DeviceType.META);
        var cpuLogits = zeros(3, 4);

        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(cpuLogits, empty(new long[] { 3 }, dtype: ScalarType.Int64, device: meta)));
        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(cpuLogits, zeros(3, dtype: ScalarType.Int64), mask: empty(new long[] { 3 }, device: meta)));
        Assert.Throws<ArgumentException>(() => Losses.SoftTargetKl(cpuLogits, empty(new long[] { 3, 4 }, device: meta), 1.0));
        Assert.Throws<ArgumentException>(() => Losses.CosineDistance(cpuLogits, empty(new long[] { 3, 4 }, device: meta)));
        Assert.Throws<ArgumentException>(() => Losses.Mse(cpuLogits, empty(new long[] { 3, 4 }, device: meta)));
    }

    public static TheoryData<string> LossNames => new() { "CrossEntropyIndex", "CrossEntropyProbabilities", "SoftTargetKl", "CosineDistance", "Mse" };

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Losses_LeaveNoIntermediateTensorAlive(string name)
    {
        using var outer = NewDisposeScope(); // a leaked intermediate lands here: counted, then freed when the test ends
        var rng = new Random(401);
        long[] shape = { 4, 6, 5 };
        var x = RandomTensor(rng, shape, type: ScalarType.Float16, requiresGrad: true);
        var y = RandomTensor(rng, shape, type: ScalarType.Float32);
        var labels = RandomLabels(rng, shape).to(ScalarType.Int32);
        var mask = tensor(Enumerable.Range(0, 24).Select(i => i % 4 != 1).ToArray()).reshape(4, 6);
        Func<Tensor> call = name switch
        {
            "CrossEntropyIndex" => () => Losses.CrossEntropy(x, labels, ignoreIndex: 3, mask: mask),
            "CrossEntropyProbabilities" => () => Losses.CrossEntropy(x, y, mask: mask),
            "SoftTargetKl" => () => Losses.SoftTargetKl(x, y, 2.0),
            "CosineDistance" => () => Losses.CosineDistance(x, y),
            "Mse" => () => Losses.Mse(x, y),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        long added = LiveTensors.AddedBy(100, call);

        Assert.Equal(0, added);
    }

    [Fact]
    public void LeakCheck_DetectsALeakedIntermediate()
    {
        // The premise of the test above: the statistic counts tensors created in a dispose scope
        // until they are disposed, so an intermediate left to the caller's scope shows up.
        using var outer = NewDisposeScope();
        var a = zeros(3, 4);
        var b = ones(3, 4);

        long added = LiveTensors.AddedBy(100, () => (a - b).square().mean()); // leaks a - b and its square

        Assert.Equal(200, added);
    }

    private static void AssertMentions(ArgumentException error, string firstShape, string secondShape)
    {
        Assert.Contains(firstShape, error.Message);
        Assert.Contains(secondShape, error.Message);
    }
}
