using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The formula language's math functions, one <c>[Loss]</c> per formula of
/// <c>tests/reference/make_fixtures.py</c>'s MATH_FORMULAS (same text: the test checks it), over
/// <c>Tensor</c> parameters and over terms.
/// </summary>
public partial class MathFormulas
{
    [Term] Tensor SumSq(Tensor x) => x.pow(2).sum();

    [Term] Tensor Mean(Tensor x) => x.mean();

    [Loss("Total = Sqrt(a)")]
    public partial Tensor SqrtOf(Tensor a);

    [Loss("Total = Log(a)")]
    public partial Tensor LogOf(Tensor a);

    [Loss("Total = Exp(a)")]
    public partial Tensor ExpOf(Tensor a);

    [Loss("Total = Abs(a)")]
    public partial Tensor AbsOf(Tensor a);

    [Loss("Total = Min(a, b)")]
    public partial Tensor MinOf(Tensor a, Tensor b);

    [Loss("Total = Max(a, b)")]
    public partial Tensor MaxOf(Tensor a, Tensor b);

    [Loss("Total = Min(a, 0.5)")]
    public partial Tensor MinNumber(Tensor a);

    [Loss("Total = Max(0.5, a)")]
    public partial Tensor MaxNumber(Tensor a);

    [Loss("Total = Clamp(a, -1, 1)")]
    public partial Tensor ClampOf(Tensor a);

    [Loss("Total = Pow(a, 2.5)")]
    public partial Tensor PowNumber(Tensor a);

    [Loss("Total = a ^ 3")]
    public partial Tensor PowInteger(Tensor a);

    [Loss("Total = Pow(a, b)")]
    public partial Tensor PowTensor(Tensor a, Tensor b);

    [Loss("Total = 2 ^ a")]
    public partial Tensor NumberPow(Tensor a);

    [Loss("Total = -a ^ 2")]
    public partial Tensor NegatedSquare(Tensor a);

    [Loss("Total = a ^ b ^ 0.5")]
    public partial Tensor PowerTower(Tensor a, Tensor b);

    [Loss("Total = Sqrt(SumSq) + Log(Mean ^ 2) * Exp(-Mean) - Abs(Mean) + Clamp(Mean, -0.1, 0.1) + Min(SumSq, Mean) + Max(Mean, 0.2)")]
    public partial MathTermsResult Terms(Tensor x);
}

/// <summary>Balance of values computed through math functions from a cancellation (Kd is 0 up to rounding).</summary>
public partial class MathCancellation
{
    [Loss("""
        Kd = Soft + Balance(Feature, to: Soft)
        Total = Hard + Balance(Abs(Kd), to: Hard) + Balance(Sqrt(Abs(Kd)), to: Hard) + Balance(Exp(Kd), to: Hard) + Balance(Max(Kd, Feature), to: Hard)
        """)]
    public partial MathCancellationResult Compute(Tensor Hard, Tensor Soft, Tensor Feature);
}

/// <summary>Math on numbers read at call time (members and parameters), and x ^ 1.</summary>
public partial class MathOnNumbers
{
    public double Alpha { get; set; } = 0.36;

    public int Steps { get; set; } = 7;

    public float Lo { get; set; }

    public float Hi { get; set; } = 1;

    [Loss("""
        W = Sqrt(Alpha) + Log(Steps) * Exp(-Alpha) + Abs(shift) + Min(Steps, 3) - Max(Alpha, shift) ^ 2 + Pow(2, Steps) + Clamp(shift, Lo, Hi)
        Total = W * a + a ^ 1
        """)]
    public partial MathOnNumbersResult Compute(Tensor a, double shift);
}

/// <summary>
/// The generated code of <see cref="MathFormulas"/> against PyTorch 1.13 (Reference/math_functions.json):
/// the value and the gradient of every input, by autograd, in float64 and float32, with the edge
/// cases PyTorch has conventions for (abs at 0, min/max ties, clamp at its bounds, 0 ^ 2, log near 0).
/// </summary>
public class MathFunctionReferenceTests
{
    private const string File = "math_functions";

    public static TheoryData<string> Cases => PyTorchReference.Ids(File);

    /// <summary>The [Loss] method of each fixture formula, by the name make_fixtures.py gives it.</summary>
    private static readonly Dictionary<string, string> Methods = new()
    {
        ["sqrt"] = nameof(MathFormulas.SqrtOf),
        ["log"] = nameof(MathFormulas.LogOf),
        ["exp"] = nameof(MathFormulas.ExpOf),
        ["abs"] = nameof(MathFormulas.AbsOf),
        ["min"] = nameof(MathFormulas.MinOf),
        ["max"] = nameof(MathFormulas.MaxOf),
        ["min_number"] = nameof(MathFormulas.MinNumber),
        ["max_number"] = nameof(MathFormulas.MaxNumber),
        ["clamp"] = nameof(MathFormulas.ClampOf),
        ["pow_number"] = nameof(MathFormulas.PowNumber),
        ["pow_integer"] = nameof(MathFormulas.PowInteger),
        ["pow_tensor"] = nameof(MathFormulas.PowTensor),
        ["number_pow"] = nameof(MathFormulas.NumberPow),
        ["negated_square"] = nameof(MathFormulas.NegatedSquare),
        ["power_tower"] = nameof(MathFormulas.PowerTower),
        ["terms"] = nameof(MathFormulas.Terms),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GeneratedFormula_MatchesPyTorch(string id)
    {
        using var scope = NewDisposeScope();
        var c = PyTorchReference.Get(File, id);
        string formulaName = id.Split(' ')[1];
        MethodInfo method = typeof(MathFormulas).GetMethod(Methods[formulaName])!;
        Assert.Equal("Total = " + c.Params.GetProperty("formula").GetString(), method.GetCustomAttribute<LossAttribute>()!.Formula);

        var leaves = method.GetParameters().ToDictionary(p => p.Name!, p => c.Input(p.Name!, requiresGrad: true));
        object result = method.Invoke(new MathFormulas(), leaves.Values.Cast<object>().ToArray())!;
        Tensor loss = result is MathTermsResult terms ? terms.Total : (Tensor)result;

        PyTorchReference.AssertMatches(c, loss, leaves);
    }

    [Fact]
    public void Balance_through_a_math_function_sees_the_residue_of_a_cancellation()
    {
        // Kd = Soft + Feature * |Soft| / |Feature| is 0 exactly; in float32 its residue is about 2e-8.
        using var scope = NewDisposeScope();
        using var result = new MathCancellation().Compute(tensor(2.3f), tensor(0.7f), tensor(-0.4f));
        Assert.NotEqual(0.0, Value(result.Kd)); // the residue this test is about

        // Abs keeps Kd's bound; Sqrt scales it by its slope 1 / (2 Sqrt(|Kd|)): both count as 0, scale 1, not 2.3 / 2e-8.
        Assert.Equal(1.0, Value(result.BalanceScale));
        Assert.Equal(1.0, Value(result.BalanceScale2));
        // Exp(Kd) is 1 up to rounding, a real value: balanced to |Hard| = 2.3.
        RelativeTolerance.AssertClose(2.3, Value(result.BalanceScale3), 1e-5, "Exp scale");
        // Max(Kd, Feature) is Kd (Feature = -0.4 < 0): residue again.
        Assert.Equal(1.0, Value(result.BalanceScale4));
    }

    [Theory]
    [InlineData(-2.5, 0, 1)]
    [InlineData(0.75, 0, 1)]
    [InlineData(0.75, 1, 0.5)] // lo > hi at call time: hi, as torch.clamp
    public void MathOnNumbersIsComputedAtCallTimeWithSystemMath(double shift, float lo, float hi)
    {
        using var scope = NewDisposeScope();
        var loss = new MathOnNumbers { Lo = lo, Hi = hi };
        var a = tensor(1.5, requires_grad: true);

        using var result = loss.Compute(a, shift);
        result.Total.backward();

        double w = Math.Sqrt(0.36) + Math.Log(7) * Math.Exp(-0.36) + Math.Abs(shift) + 3 - Math.Pow(Math.Max(0.36, shift), 2) + 128
                   + Math.Min(Math.Max(shift, lo), hi);
        RelativeTolerance.AssertClose(w * 1.5 + 1.5, Value(result.Total), 1e-12, "total");
        RelativeTolerance.AssertClose(w + 1, Value(a.grad!), 1e-12, "d total / d a");
        Assert.Contains("Total = a + W * a   [the loss]", MathOnNumbers.ComputeExplanation); // a ^ 1 is a, fused: no power computed
    }

    private static double Value(Tensor t) => t.to(ScalarType.Float64).item<double>();

    [Fact]
    public void EveryFixtureFormulaHasAMethodAndEveryMethodAFixture()
    {
        var fixtureNames = PyTorchReference.Load(File).Select(c => c.Id.Split(' ')[1]).ToHashSet();
        Assert.Equal(Methods.Keys.OrderBy(k => k, StringComparer.Ordinal), fixtureNames.OrderBy(k => k, StringComparer.Ordinal));
        var lossMethods = typeof(MathFormulas).GetMethods().Where(m => m.GetCustomAttribute<LossAttribute>() is not null).Select(m => m.Name);
        Assert.Equal(Methods.Values.OrderBy(k => k, StringComparer.Ordinal), lossMethods.OrderBy(k => k, StringComparer.Ordinal));
    }
}
