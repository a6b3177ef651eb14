using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using LossDsl.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The chunked path of the class-dimension terms (<see cref="Chunking"/>) against the plain autograd path
/// (<see cref="Chunking.Off"/>): equal values and student gradients for every term and option on odd shapes (a class
/// count that divides nothing, row counts that the chunk does not divide, one row, 1-dim logits, left-out and
/// all-left-out rows, half precision), no gradient to the teacher, two backward passes over a retained graph, a
/// forward without a gradient, no tensor left alive, and no read of tensor data on the host (on the meta device).
/// </summary>
public class ChunkedTermTests
{
    private const long Classes = 13;

    private static readonly string[] TermNames =
    {
        "CrossEntropy", "CrossEntropyIgnoreMask", "CrossEntropyWeightSmoothing", "CrossEntropySmoothing", "CrossEntropyInt32",
        "SoftTargetKl", "ReverseKl", "ReverseKlLabelsMask", "JensenShannon", "JensenShannonBetaZero", "JensenShannonBetaOne",
        "TopKKl", "TopKKlMask",
    };

    public static TheoryData<string> Terms => new(TermNames);

    public static TheoryData<string, long> TermsAndChunks()
    {
        var data = new TheoryData<string, long>();
        foreach (var term in TermNames)
        {
            foreach (long rows in new long[] { 1, 4, 1000 })
            {
                data.Add(term, rows);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TermsAndChunks))]
    public void Chunked_Float64_MatchesUnchunked(string term, long rowsPerChunk) =>
        AssertChunkedMatches(term, new long[] { 3, 7, Classes }, ScalarType.Float64, Chunking.Rows(rowsPerChunk), 1e-12);

    [Theory]
    [MemberData(nameof(TermsAndChunks))]
    public void Chunked_Float32_MatchesUnchunked(string term, long rowsPerChunk) =>
        AssertChunkedMatches(term, new long[] { 3, 7, Classes }, ScalarType.Float32, Chunking.Rows(rowsPerChunk), 1e-6);

    [Theory]
    [MemberData(nameof(Terms))]
    public void Chunked_OneRowAnd1DimLogits_MatchUnchunked(string term)
    {
        AssertChunkedMatches(term, new long[] { 1, Classes }, ScalarType.Float64, Chunking.Rows(2), 1e-12);
        AssertChunkedMatches(term, new long[] { Classes }, ScalarType.Float64, Chunking.Rows(1), 1e-12);
    }

    [Theory]
    [MemberData(nameof(Terms))]
    public void Chunked_Auto_MatchesUnchunked(string term) =>
        AssertChunkedMatches(term, new long[] { 2, 5, Classes }, ScalarType.Float32, Chunking.Auto, 1e-6);

    /// <summary>
    /// An input changed in place between forward and backward. Unpacking a saved tensor that changed throws, and an
    /// exception in a custom backward ended the test process; backward now hands over the gradient the forward
    /// computed, from the values it saw, or, for SoftTargetKl, which computes its gradient in backward, gives NaN
    /// instead of the gradient of the changed values.
    /// </summary>
    [Theory]
    [MemberData(nameof(Terms))]
    public void Chunked_AnInputChangedInPlaceAfterTheForward_BackwardGivesTheForwardsGradientOrNaN(string term)
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(new long[] { 3, 7, Classes }, ScalarType.Float64, seed: 29);
        var (_, expected) = ValueAndGradient(term, inputs, Chunking.Off);
        var student = inputs.Student.detach().clone().requires_grad_(true);
        var teacher = inputs.Teacher.clone();

        var loss = Call(term, inputs with { Student = student, Teacher = teacher }, Chunking.Rows(4));
        using (torch.no_grad())
        {
            student.add_(1);
            teacher.mul_(2);
        }
        loss.backward();

        if (term == "SoftTargetKl")
        {
            Assert.True(student.grad!.isnan().all().item<bool>(), "every gradient element is NaN");
            return;
        }
        AssertGradientsClose(expected, student.grad!, 1e-12, term);
    }

    [Theory]
    [InlineData("CrossEntropy")]
    [InlineData("SoftTargetKl")]
    [InlineData("ReverseKl")]
    public void Auto_AboveItsThreshold_MatchesUnchunked(string term) =>
        // 9 × 466,034 elements: just above 2^22, so Auto chunks (a row is more than 2^18 elements, so one row per chunk).
        AssertChunkedMatches(term, new long[] { 9, 466_034 }, ScalarType.Float64, Chunking.Auto, 1e-12);

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void Chunked_HalfPrecision_MatchesUnchunked_GradientInTheInputDtype(ScalarType type)
    {
        foreach (var term in TermNames)
        {
            using var scope = NewDisposeScope();
            var inputs = Inputs(new long[] { 3, 7, Classes }, type, seed: 17);
            var (offValue, offGradient) = ValueAndGradient(term, inputs, Chunking.Off);
            var (value, gradient) = ValueAndGradient(term, inputs, Chunking.Rows(4));

            Assert.Equal(ScalarType.Float32, value.dtype);
            Assert.Equal(type, gradient.dtype);
            RelativeTolerance.AssertClose(offValue.to(ScalarType.Float64).item<double>(), value, 1e-6, term);
            // Each gradient is rounded once to the input dtype; the unrounded ones agree to 1e-6.
            AssertGradientsClose(offGradient, gradient, type == ScalarType.Float16 ? 1e-3 : 8e-3, term);
        }
    }

    [Theory]
    [MemberData(nameof(Terms))]
    public void Chunked_EveryRowLeftOut_IsZeroWithZeroGradient(string term)
    {
        if (!term.Contains("Mask") && !term.StartsWith("CrossEntropy"))
        {
            return; // only the terms with a mask can leave every row out
        }
        using var scope = NewDisposeScope();
        var inputs = Inputs(new long[] { 3, 7, Classes }, ScalarType.Float64, seed: 5) with
        {
            PositionMask = torch.zeros(new long[] { 3, 7 }, ScalarType.Bool),
        };
        foreach (var chunking in new[] { Chunking.Rows(4), Chunking.Off })
        {
            var (value, gradient) = ValueAndGradient(term.StartsWith("CrossEntropy") ? "CrossEntropyIgnoreMask" : term, inputs, chunking);
            Assert.Equal(0.0, value.item<double>());
            Assert.Equal(0.0, gradient.abs().max().item<double>());
        }
    }

    [Theory]
    [MemberData(nameof(Terms))]
    public void Chunked_NoGradientReachesTheTeacherOrTheClassWeights(string term)
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(new long[] { 3, 7, Classes }, ScalarType.Float64, seed: 9);
        var teacher = inputs.Teacher.requires_grad_(true);
        var classWeight = inputs.ClassWeight.requires_grad_(true);
        var student = inputs.Student.requires_grad_(true);

        var loss = Call(term, inputs with { Student = student, Teacher = teacher, ClassWeight = classWeight }, Chunking.Rows(4));
        var gradients = torch.autograd.grad(new[] { loss }, new[] { student, teacher, classWeight }, allow_unused: true);

        Assert.NotNull(gradients[0]);
        Assert.True(gradients[1] is null || gradients[1].IsInvalid, $"{term}: a gradient reached the teacher");
        Assert.True(gradients[2] is null || gradients[2].IsInvalid, $"{term}: a gradient reached the class weights");
    }

    [Theory]
    [MemberData(nameof(Terms))]
    public void Chunked_TwoBackwardPassesOverARetainedGraph_GiveTheUnchunkedGradient(string term)
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(new long[] { 3, 7, Classes }, ScalarType.Float64, seed: 23);
        var (_, expected) = ValueAndGradient(term, inputs, Chunking.Off);
        var student = inputs.Student.detach().clone().requires_grad_(true);

        var loss = Call(term, inputs with { Student = student }, Chunking.Rows(4));
        // As Balance(..., by: Gradient(P)) does: a gradient with the graph retained, then the caller's backward().
        var first = torch.autograd.grad(new[] { loss * 2.5 }, new[] { student }, retain_graph: true)[0];
        loss.backward();
        var second = student.grad!;

        AssertGradientsClose(expected * 2.5, first, 1e-12, term + " (first pass)");
        AssertGradientsClose(expected, second, 1e-12, term + " (second pass)");
    }

    [Theory]
    [MemberData(nameof(Terms))]
    public void Chunked_WithoutAGradient_ComputesTheValueOnly(string term)
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(new long[] { 3, 7, Classes }, ScalarType.Float64, seed: 29);
        double expected = Call(term, inputs, Chunking.Off).item<double>();

        Tensor underNoGrad;
        using (torch.no_grad())
        {
            underNoGrad = Call(term, inputs with { Student = inputs.Student.requires_grad_(true) }, Chunking.Rows(4));
        }
        var withoutRequiresGrad = Call(term, inputs with { Student = inputs.Student.detach() }, Chunking.Rows(4));

        Assert.False(underNoGrad.requires_grad);
        Assert.False(withoutRequiresGrad.requires_grad);
        RelativeTolerance.AssertClose(expected, underNoGrad, 1e-12, term);
        RelativeTolerance.AssertClose(expected, withoutRequiresGrad, 1e-12, term);
    }

    [Theory]
    [MemberData(nameof(Terms))]
    public void Chunked_LeavesNoTensorAlive(string term)
    {
        using var outer = NewDisposeScope(); // a leaked tensor lands here: counted, then freed when the test ends
        var inputs = Inputs(new long[] { 3, 7, Classes }, ScalarType.Float32, seed: 31);
        var student = inputs.Student.requires_grad_(true);

        // The forward alone, its gradient buffer included, is freed with the result.
        long forwardOnly = LiveTensors.AddedBy(20, () => Call(term, inputs with { Student = student }, Chunking.Rows(4)));
        // With a backward pass (both of them over a retained graph), nothing outlives the step's dispose scope.
        long before = LiveTensors.Count;
        for (int step = 0; step < 20; step++)
        {
            using var stepScope = NewDisposeScope();
            var loss = Call(term, inputs with { Student = student }, Chunking.Rows(4));
            torch.autograd.grad(new[] { loss }, new[] { student }, retain_graph: true);
            loss.backward();
        }
        long afterSteps = LiveTensors.Count - before;

        Assert.Equal(0, forwardOnly);
        Assert.Equal(0, afterSteps);
    }

    /// <summary>
    /// Every term but <c>JensenShannon</c> with 0 &lt; β &lt; 1, whose mixture uses <c>logsumexp</c>: libtorch 2.10 has
    /// no meta kernel for the <c>abs</c> inside it. <c>SoftTargetKl</c>'s chunked path, whose sum uses <c>nansum</c>,
    /// has none either, so that term runs its plain path only. <see cref="TermSources_ReadNoTensorDataOnTheHost"/>
    /// covers what is left out.
    /// </summary>
    public static TheoryData<string> MetaTerms => new(TermNames.Where(name => name != "JensenShannon"));

    [Theory]
    [MemberData(nameof(MetaTerms))]
    public void Term_ReadsNoTensorDataOnTheHost(string term)
    {
        // Meta tensors have shapes and dtypes but no data: any read on the host (item, ToArray, data<T>, a tensor's
        // bool) throws. Both paths, with and without a gradient, forward and backward.
        foreach (var chunking in term == "SoftTargetKl" ? new[] { Chunking.Off } : new[] { Chunking.Rows(4), Chunking.Off })
        {
            foreach (bool gradient in new[] { true, false })
            {
                using var scope = NewDisposeScope();
                var inputs = MetaInputs(new long[] { 3, 7, Classes });
                var student = inputs.Student.requires_grad_(gradient);

                var loss = Call(term, inputs with { Student = student }, chunking);
                if (gradient)
                {
                    var first = torch.autograd.grad(new[] { loss }, new[] { student }, retain_graph: true)[0];
                    loss.backward();
                    Assert.Equal(student.shape, first.shape);
                    Assert.Equal(student.shape, student.grad!.shape);
                }

                Assert.Equal(DeviceType.META, loss.device_type);
                Assert.Equal(0, loss.Dimensions);
            }
        }
    }

    [Fact]
    public void TermSources_ReadNoTensorDataOnTheHost()
    {
        // The static half of the check: no term's source calls a host read of tensor data.
        string folder = Path.Combine(Path.GetDirectoryName(SourcePath())!, "..", "..", "src", "LossDsl");
        // The reads, and the operations whose result's shape depends on the data (libtorch reads it to size the result).
        string[] reads =
        {
            ".item<", ".ToArray(", ".data<", "ToScalar(", ".cpu(", "ToDouble(", "ToSingle(", "ToBoolean(", "ToInt64(",
            ".nonzero(", "masked_select(", ".unique(", "argwhere(", "unique_consecutive(",
        };
        var files = Directory.GetFiles(folder, "Losses*.cs");
        Assert.Contains(files, file => file.EndsWith("Losses.Chunked.cs"));
        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            foreach (string read in reads)
            {
                Assert.False(text.Contains(read, StringComparison.Ordinal), $"{Path.GetFileName(file)} calls {read}");
            }
        }
    }

    private static string SourcePath([CallerFilePath] string path = "") => path;

    [Fact]
    public void MetaDevice_ThrowsOnAHostRead()
    {
        // The check above is only as good as this: a host read of a meta tensor fails.
        using var scope = NewDisposeScope();
        var inputs = MetaInputs(new long[] { 2, 5 });
        var loss = Losses.ReverseKl(inputs.Student, inputs.Teacher, 2.0, chunking: Chunking.Rows(1));
        Assert.ThrowsAny<Exception>(() => loss.item<float>());
    }

    /// <summary>
    /// Rows of <c>SoftTargetKl</c> with a non-finite logit, each beside an ordinary row: a class masked with -inf in
    /// the teacher or in both models (0), one the student masks where the teacher gives it mass (+inf) or a probability
    /// that underflows to 0 (0), and NaN, +inf and all -inf rows (NaN). The chunked sum leaves out the NaNs that
    /// p_t = 0 makes and must keep every other one.
    /// </summary>
    public static TheoryData<string, double[], double[]> NonFiniteRows()
    {
        double ninf = double.NegativeInfinity, inf = double.PositiveInfinity, nan = double.NaN;
        return new TheoryData<string, double[], double[]>
        {
            { "teacher masks a class", new[] { 0.3, 1.0, -0.5, 2.0 }, new[] { ninf, 0.2, 1.5, -0.4 } },
            { "both mask a class", new[] { 0.3, ninf, -0.5, 2.0 }, new[] { 0.7, ninf, 1.5, -0.4 } },
            { "student masks a class the teacher gives mass", new[] { 0.3, 1.0, ninf, 2.0 }, new[] { 0.7, 0.2, 1.5, -0.4 } },
            { "student masks a class whose teacher probability underflows", new[] { 0.3, 1.0, 0.4, ninf }, new[] { 0.7, 0.2, 1.5, -1e4 } },
            { "NaN student logit", new[] { 0.3, 1.0, nan, 2.0 }, new[] { 0.7, 0.2, 1.5, -0.4 } },
            { "NaN teacher logit", new[] { 0.3, 1.0, -0.5, 2.0 }, new[] { 0.7, 0.2, 1.5, nan } },
            { "+inf student logit", new[] { 0.3, inf, -0.5, 2.0 }, new[] { 0.7, 0.2, 1.5, -0.4 } },
            { "+inf teacher logit", new[] { 0.3, 1.0, -0.5, 2.0 }, new[] { 0.7, 0.2, inf, -0.4 } },
            { "teacher row of -inf", new[] { 0.3, 1.0, -0.5, 2.0 }, new[] { ninf, ninf, ninf, ninf } },
            { "student row of -inf", new[] { ninf, ninf, ninf, ninf }, new[] { 0.7, 0.2, 1.5, -0.4 } },
        };
    }

    [Theory]
    [MemberData(nameof(NonFiniteRows))]
    public void SoftTargetKl_NonFiniteLogits_ChunkedValueIsThePlainOne(string rows, double[] student, double[] teacher)
    {
        foreach (var type in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            foreach (bool specialFirst in new[] { true, false })
            {
                using var scope = NewDisposeScope();
                double[] ordinary = { -1.0, 0.5, 0.25, 1.5 };
                var s = tensor(specialFirst ? student.Concat(ordinary).ToArray() : ordinary.Concat(student).ToArray(), new long[] { 2, 4 }).to(type);
                var t = tensor(specialFirst ? teacher.Concat(ordinary).ToArray() : ordinary.Concat(teacher).ToArray(), new long[] { 2, 4 }).to(type);
                double plain = Losses.SoftTargetKl(s, t, 2.0, Chunking.Off).to(ScalarType.Float64).item<double>();

                foreach (bool gradient in new[] { false, true })
                {
                    var x = s.clone().requires_grad_(gradient);
                    double chunked = Losses.SoftTargetKl(x, t, 2.0, Chunking.Rows(1)).to(ScalarType.Float64).item<double>();
                    string where = $"{rows}, {type}, special row {(specialFirst ? "first" : "last")}, gradient {gradient}";
                    if (double.IsFinite(plain))
                    {
                        RelativeTolerance.AssertClose(plain, chunked, type == ScalarType.Float64 ? 1e-12 : 1e-6, where);
                    }
                    else
                    {
                        Assert.True(plain.Equals(chunked), $"{where}: plain {plain}, chunked {chunked}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SoftTargetKl_NoClasses_ChunkedValueIsThePlainOne(bool gradient)
    {
        // No class: no first column to check for NaN, and nothing to sum (the plain path gives 0).
        using var scope = NewDisposeScope();
        var student = torch.empty(3, 0, dtype: ScalarType.Float32).requires_grad_(gradient);
        var teacher = torch.empty(3, 0, dtype: ScalarType.Float32);

        var plain = Losses.SoftTargetKl(student, teacher, 2.0, Chunking.Off);
        var chunked = Losses.SoftTargetKl(student, teacher, 2.0, Chunking.Rows(2));
        if (gradient)
        {
            chunked.backward();
            Assert.Equal(student.shape, student.grad!.shape);
        }

        Assert.Equal(plain.item<float>(), chunked.item<float>());
    }

    // ---------------------------------------------------------------- SoftTargetKl's kept softmaxes

    /// <summary>
    /// 3 × 7 × 50,000: above 2^20 elements and at most 2^22, where Auto chunks <c>SoftTargetKl</c> for speed and its
    /// forward keeps p_t for the backward (in chunks of five rows, the last one row).
    /// </summary>
    private static readonly long[] KeptShape = { 3, 7, 50_000 };

    [Fact]
    public void KeptSoftmaxes_MatchUnchunked()
    {
        AssertChunkedMatches("SoftTargetKl", KeptShape, ScalarType.Float64, Chunking.Auto, 1e-12);
        AssertChunkedMatches("SoftTargetKl", KeptShape, ScalarType.Float32, Chunking.Auto, 1e-6);
    }

    [Fact]
    public void KeptSoftmaxes_HalfPrecision_GradientInTheInputDtype()
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(KeptShape, ScalarType.BFloat16, seed: 17);
        var (offValue, offGradient) = ValueAndGradient("SoftTargetKl", inputs, Chunking.Off);
        var (value, gradient) = ValueAndGradient("SoftTargetKl", inputs, Chunking.Auto);

        Assert.Equal(ScalarType.BFloat16, gradient.dtype);
        RelativeTolerance.AssertClose(offValue.to(ScalarType.Float64).item<double>(), value, 1e-6);
        AssertGradientsClose(offGradient, gradient, 8e-3, "SoftTargetKl");
    }

    [Fact]
    public void KeptSoftmaxes_TeacherChangedInPlace_TwoBackwardPasses_GiveTheForwardsGradient_AndLeaveNoTensorAlive()
    {
        using var outer = NewDisposeScope();
        var inputs = Inputs(KeptShape, ScalarType.Float64, seed: 41);
        var (_, expected) = ValueAndGradient("SoftTargetKl", inputs, Chunking.Off);
        long before = LiveTensors.Count;
        for (int step = 0; step < 2; step++)
        {
            using var stepScope = NewDisposeScope();
            var student = inputs.Student.detach().clone().requires_grad_(true);
            var teacher = inputs.Teacher.clone();
            var loss = Call("SoftTargetKl", inputs with { Student = student, Teacher = teacher }, Chunking.Auto);
            teacher.mul_(2);
            var first = torch.autograd.grad(new[] { loss * 2.5 }, new[] { student }, retain_graph: true)[0];
            loss.backward();
            AssertGradientsClose(expected * 2.5, first, 1e-12, "first pass");
            AssertGradientsClose(expected, student.grad!, 1e-12, "second pass");
        }
        Assert.Equal(0, LiveTensors.Count - before);
    }

    [Fact]
    public void KeptSoftmaxes_StudentChangedInPlace_GradientIsNaN()
    {
        // Backward recomputes the student's softmax, which would read the changed values.
        using var scope = NewDisposeScope();
        var inputs = Inputs(KeptShape, ScalarType.Float32, seed: 42);
        var student = inputs.Student.detach().clone().requires_grad_(true);

        var loss = Call("SoftTargetKl", inputs with { Student = student }, Chunking.Auto);
        using (torch.no_grad())
        {
            student.add_(1);
        }
        loss.backward();

        Assert.True(student.grad!.isnan().all().item<bool>(), "every gradient element is NaN");
    }

    /// <summary>
    /// Which path a call took, seen from outside: the plain path's gradient can itself be differentiated
    /// (<c>create_graph</c>), a custom backward's cannot (docs/language.md says so).
    /// </summary>
    [Theory]
    [InlineData("CrossEntropy", 3L, 7L, Classes, false)]
    [InlineData("CrossEntropy", 1L, 1L, 1L << 22, false)] // 2^22 elements: at the threshold, still plain
    [InlineData("CrossEntropy", 1L, 1L, (1L << 22) + 1, true)]
    [InlineData("SoftTargetKl", 3L, 7L, Classes, false)]
    [InlineData("SoftTargetKl", 1L, 1L, 1L << 20, false)] // 2^20 elements: at the threshold, still plain
    [InlineData("SoftTargetKl", 1L, 1L, (1L << 20) + 1, true)] // just above: chunked
    [InlineData("ReverseKl", 1L, 1L, 1L << 22, false)]
    [InlineData("ReverseKl", 1L, 1L, (1L << 22) + 1, true)]
    public void Auto_TakesACustomBackwardExactlyWhereItsDocsSay(string term, long batch, long sequence, long classes, bool custom)
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(new long[] { batch, sequence, classes }, ScalarType.Float32, seed: 37);
        var student = inputs.Student.requires_grad_(true);

        var loss = Call(term, inputs with { Student = student }, Chunking.Auto);
        var gradient = torch.autograd.grad(new[] { loss }, new[] { student }, create_graph: true)[0];

        Assert.Equal(!custom, gradient.requires_grad);
    }

    [Fact]
    public void Chunking_Values()
    {
        Assert.Equal(Chunking.Auto, default);
        Assert.NotEqual(Chunking.Auto, Chunking.Off);
        Assert.Equal(Chunking.Rows(3), Chunking.Rows(3));
        Assert.NotEqual(Chunking.Rows(3), Chunking.Rows(4));
        Assert.True(Chunking.Rows(2) != Chunking.Off);
        Assert.Equal("Auto Off Rows(7)", $"{Chunking.Auto} {Chunking.Off} {Chunking.Rows(7)}");
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Chunking.Rows(0));
        Assert.Equal("rows", error.ParamName);
        Assert.Contains("0", error.Message);
    }

    // ---------------------------------------------------------------- helpers

    /// <param name="Labels">Class indices with one ignored (-100) position where there are more than two.</param>
    /// <param name="AllLabels">The same with the ignored one replaced by class 0.</param>
    /// <param name="Labels32">Labels as int32.</param>
    private sealed record TermInputs(
        Tensor Student, Tensor Teacher, Tensor Labels, Tensor AllLabels, Tensor Labels32, Tensor PositionMask, Tensor ClassWeight);

    private static TermInputs Inputs(long[] shape, ScalarType type, int seed)
    {
        var generator = new torch.Generator((ulong)seed);
        long[] positionShape = shape[..^1];
        long positions = positionShape.Aggregate(1L, (a, b) => a * b);
        var student = (torch.randn(shape, generator: generator) * 3).to(type);
        var teacher = (torch.randn(shape, generator: generator) * 3).to(type);
        var labels = torch.randint(0, shape[^1], positionShape, generator: generator);
        var mask = torch.tensor(Enumerable.Range(0, (int)positions).Select(i => i % 5 != 3).ToArray()).reshape(positionShape);
        if (positions > 2)
        {
            // One ignored label, on a position the mask keeps.
            labels.view(-1)[1] = torch.tensor(-100L);
        }
        var classWeight = (torch.rand(new[] { shape[^1] }, generator: generator) + 0.5).to(type);
        return new TermInputs(student, teacher, labels, labels.clamp_min(0), labels.to(ScalarType.Int32), mask, classWeight);
    }

    private static TermInputs MetaInputs(long[] shape)
    {
        long[] positionShape = shape[..^1];
        return new TermInputs(
            torch.empty(shape, device: torch.META), torch.empty(shape, device: torch.META),
            torch.empty(positionShape, ScalarType.Int64, device: torch.META), torch.empty(positionShape, ScalarType.Int64, device: torch.META),
            torch.empty(positionShape, ScalarType.Int32, device: torch.META), torch.empty(positionShape, ScalarType.Bool, device: torch.META),
            torch.empty(new[] { shape[^1] }, device: torch.META));
    }

    private static Tensor Call(string term, TermInputs t, Chunking chunking) => term switch
    {
        "CrossEntropy" => Losses.CrossEntropy(t.Student, t.AllLabels, chunking: chunking),
        "CrossEntropyIgnoreMask" => Losses.CrossEntropy(t.Student, t.Labels, mask: t.PositionMask, chunking: chunking),
        "CrossEntropyWeightSmoothing" => Losses.CrossEntropy(
            t.Student, t.Labels, mask: t.PositionMask, labelSmoothing: 0.15, weight: t.ClassWeight, chunking: chunking),
        "CrossEntropySmoothing" => Losses.CrossEntropy(t.Student, t.Labels, labelSmoothing: 0.3, chunking: chunking),
        "CrossEntropyInt32" => Losses.CrossEntropy(t.Student, t.Labels32, ignoreIndex: -100, chunking: chunking),
        "SoftTargetKl" => Losses.SoftTargetKl(t.Student, t.Teacher, 2.0, chunking),
        "ReverseKl" => Losses.ReverseKl(t.Student, t.Teacher, 1.5, chunking: chunking),
        "ReverseKlLabelsMask" => Losses.ReverseKl(t.Student, t.Teacher, 2.0, t.Labels, mask: t.PositionMask, chunking: chunking),
        "JensenShannon" => Losses.JensenShannon(t.Student, t.Teacher, 0.3, 2.0, t.Labels, mask: t.PositionMask, chunking: chunking),
        "JensenShannonBetaZero" => Losses.JensenShannon(t.Student, t.Teacher, 0, 1.0, chunking: chunking),
        "JensenShannonBetaOne" => Losses.JensenShannon(t.Student, t.Teacher, 1, 3.0, chunking: chunking),
        "TopKKl" => Losses.TopKKl(t.Student, t.Teacher, 4, 2.0, chunking: chunking),
        "TopKKlMask" => Losses.TopKKl(t.Student, t.Teacher, 3, 1.0, t.Labels, mask: t.PositionMask, chunking: chunking),
        _ => throw new ArgumentOutOfRangeException(nameof(term), term, "not a term of this test"),
    };

    /// <summary>The loss and its gradient with respect to a fresh leaf copy of the student.</summary>
    private static (Tensor Value, Tensor Gradient) ValueAndGradient(string term, TermInputs inputs, Chunking chunking)
    {
        var student = inputs.Student.detach().clone().requires_grad_(true);
        var loss = Call(term, inputs with { Student = student }, chunking);
        var gradient = torch.autograd.grad(new[] { loss }, new[] { student })[0];
        return (loss.detach(), gradient);
    }

    private static void AssertChunkedMatches(string term, long[] shape, ScalarType type, Chunking chunking, double tolerance)
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(shape, type, seed: 3);
        var (offValue, offGradient) = ValueAndGradient(term, inputs, Chunking.Off);
        var (value, gradient) = ValueAndGradient(term, inputs, chunking);

        Assert.Equal(offValue.dtype, value.dtype);
        Assert.Equal(type, gradient.dtype);
        Assert.Equal(inputs.Student.shape, gradient.shape);
        RelativeTolerance.AssertClose(offValue.to(ScalarType.Float64).item<double>(), value, tolerance, $"{term} {chunking}");
        AssertGradientsClose(offGradient, gradient, tolerance, $"{term} {chunking}");
    }

    private static void AssertGradientsClose(Tensor expected, Tensor actual, double tolerance, string context) =>
        RelativeTolerance.AssertElementsClose(expected, actual, tolerance, context + " (gradient)");
}
