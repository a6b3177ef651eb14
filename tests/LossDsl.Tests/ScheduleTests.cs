using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LossDsl.Testing;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// Schedules whose lengths a run configures (members and parameters read at call time), their
/// values against torch.optim.lr_scheduler (Reference/schedules.json, written by
/// tests/reference/make_fixtures.py), and the numbers of a formula in the result and its metrics.
/// </summary>
public class ScheduleTests
{
    private const double Tolerance = 1e-6;

    public static TheoryData<string> ReferenceCases => new(ReadReference().Select(c => c.Name));

    /// <summary>The generated schedule's value at every step of the fixture, its lengths set from members.</summary>
    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void ScheduleValuesMatchPyTorchsSchedulers(string name)
    {
        ReferenceCase reference = ReadReference().Single(c => c.Name == name);
        var loss = new ScheduleReferenceLoss();
        foreach (var (member, value) in reference.Members)
        {
            typeof(ScheduleReferenceLoss).GetProperty(member)!.SetValue(loss, Convert.ChangeType(value, typeof(ScheduleReferenceLoss).GetProperty(member)!.PropertyType));
        }
        var (explanation, state, compute) = Case(loss, name);
        Assert.Contains($"W = {reference.Formula}   [a number]", explanation);

        using var scope = NewDisposeScope();
        Tensor hard = tensor(2.0);
        for (int step = 0; step < reference.Values.Length; step++)
        {
            state.Step = step;
            double actual = compute(hard);
            double expected = reference.Values[step];
            Assert.True(Math.Abs(actual - expected) <= Tolerance * Math.Abs(expected) + (expected == 0 ? 1e-15 : 0),
                $"{name} at step {step}: {actual:R}, PyTorch {expected:R}");
        }
    }

    [Fact]
    public void TheLengthIsReadAtEveryCall()
    {
        var loss = new ConfiguredScheduleLoss { TotalSteps = 100 };
        using var scope = NewDisposeScope();
        loss.ComputeState.Step = 50;
        using (var result = loss.Compute(tensor(1.0), tensor(2.0), 1.0))
        {
            Assert.Equal(0.5, result.Alpha, 12); // halfway: the mean of 0.9 and 0.1
        }

        loss.TotalSteps = 200;
        using (var result = loss.Compute(tensor(1.0), tensor(2.0), 1.0))
        {
            Assert.Equal(0.1 + (0.8 * 0.5 * (1 + Math.Cos(Math.PI / 4))), result.Alpha, 12);
        }

        loss.TotalSteps = 40;
        using (var result = loss.Compute(tensor(1.0), tensor(2.0), 1.0))
        {
            Assert.Equal(0.1, result.Alpha, 12); // past its end
        }
    }

    [Fact]
    public void HoldAndWarmUpAreReadAtEveryCall()
    {
        var loss = new ConfiguredScheduleLoss { TotalSteps = 100, Hold = 20, WarmupSteps = 10 };
        using var scope = NewDisposeScope();
        double At(long step)
        {
            loss.ComputeState.Step = step;
            using var result = loss.Compute(tensor(1.0), tensor(2.0), 1.0);
            return result.Alpha;
        }

        Assert.Equal(0.0, At(0));
        Assert.Equal(0.0, At(20));          // held at the warm-up's start until step 20
        Assert.Equal(0.45, At(25), 12);     // half the warm-up
        Assert.Equal(0.9, At(30), 12);      // the warm-up done: the cosine's start
        Assert.Equal(0.5, At(80), 12);      // half the cosine
        loss.WarmupSteps = 0;
        Assert.Equal(0.9, At(20), 12);
        Assert.Equal(0.5, At(70), 12);
    }

    public static TheoryData<string, Action<ConfiguredScheduleLoss>, string> BadLengths => new()
    {
        { "TotalSteps", l => l.TotalSteps = 0, "The number of steps TotalSteps of the schedule Cosine is 0: it must be a finite number greater than 0." },
        { "TotalSteps", l => l.TotalSteps = -5, "The number of steps TotalSteps of the schedule Cosine is -5: it must be a finite number greater than 0." },
        { "Hold", l => l.Hold = -1, "The start step from: Hold of the schedule Cosine is -1: it must be a finite number of steps, 0 or more." },
        { "Hold", l => l.Hold = double.NaN, "The start step from: Hold of the schedule Cosine is NaN: it must be a finite number of steps, 0 or more." },
        { "WarmupSteps", l => l.WarmupSteps = double.PositiveInfinity, "The warm-up warmup: WarmupSteps of the schedule Cosine is Infinity: it must be a finite number of steps, 0 or more." },
        { "Later", l => l.Later = 10, "The milestone Later of the schedule Piecewise is 10, not after the milestone before it, 10: milestones must increase." },
    };

    [Theory]
    [MemberData(nameof(BadLengths))]
    public void ABadLengthThrowsNamingItAndTheCallChangesNothing(string name, Action<ConfiguredScheduleLoss> spoil, string message)
    {
        var loss = new ConfiguredScheduleLoss();
        var twin = new ConfiguredScheduleLoss();
        using var scope = NewDisposeScope();
        for (int call = 0; call < 4; call++)
        {
            Run(loss, call);
            Run(twin, call);
        }
        byte[] before = Snapshot(loss.ComputeState);

        spoil(loss);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Compute(tensor(1.5), tensor(0.5), 1.0));
        Assert.Equal(name, error.ParamName);
        Assert.StartsWith(message, error.Message);
        Assert.Equal(before, Snapshot(loss.ComputeState));

        // The next calls compute as if the failed call had not happened.
        var fixedLoss = new ConfiguredScheduleLoss();
        loss.TotalSteps = fixedLoss.TotalSteps;
        loss.Hold = fixedLoss.Hold;
        loss.WarmupSteps = fixedLoss.WarmupSteps;
        loss.Later = fixedLoss.Later;
        for (int call = 4; call < 8; call++)
        {
            Assert.Equal(Run(twin, call), Run(loss, call));
        }
    }

    [Fact]
    public void ParametersConfigureTheLengthAtEveryCall()
    {
        var loss = new ParameterLengthLoss();
        using var scope = NewDisposeScope();
        Tensor hard = tensor(2.0);
        loss.ComputeState.Step = 10;
        double At(long steps, float warm)
        {
            using var result = loss.Compute(hard, steps, warm);
            Assert.Equal(result.LinearSchedule * 2.0, result.Total.item<double>(), 12);
            return result.LinearSchedule;
        }

        Assert.Equal(0.5, At(20, 0), 12);
        Assert.Equal(0.75, At(40, 0), 12);
        Assert.Equal(0.5, At(40, 20), 12); // halfway through the warm-up
        byte[] before = Snapshot(loss.ComputeState);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Compute(hard, 0, 0));
        Assert.Equal("steps", error.ParamName);
        Assert.StartsWith("The number of steps steps of the schedule Linear is 0: it must be a finite number greater than 0.", error.Message);
        error = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Compute(hard, 20, float.NaN));
        Assert.Equal("warm", error.ParamName);
        Assert.StartsWith("The warm-up warmup: warm of the schedule Linear is NaN: it must be a finite number of steps, 0 or more.", error.Message);
        Assert.Equal(before, Snapshot(loss.ComputeState));
    }

    [Fact]
    public void NumbersAreResultPropertiesAndMetrics()
    {
        var loss = new ConfiguredScheduleLoss { TotalSteps = 100 };
        using var scope = NewDisposeScope();
        loss.ComputeState.Step = 25;
        var result = loss.Compute(tensor(1.5), tensor(0.5), 3.0);
        double alpha = 0.1 + (0.8 * 0.5 * (1 + Math.Cos(Math.PI / 4)));
        Assert.Equal(alpha, result.Alpha, 12);
        Assert.Equal(alpha * 3.0, result.Scaled, 12);
        Assert.Equal(0.5, result.PiecewiseSchedule);

        IReadOnlyDictionary<string, double> metrics = result.Metrics();
        Assert.Equal(
            new[] { "distill/total", "distill/hard_dwa_weight", "distill/soft_dwa_weight", "distill/skipped_updates", "distill/alpha", "distill/scaled", "distill/piecewise_schedule" }.OrderBy(k => k, StringComparer.Ordinal),
            metrics.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(result.Alpha, metrics["distill/alpha"]);
        Assert.Equal(result.Scaled, metrics["distill/scaled"]);
        Assert.Equal(result.PiecewiseSchedule, metrics["distill/piecewise_schedule"]);
        Assert.Equal(result.Total.item<double>(), metrics["distill/total"]);
        // Total = Dwa(hard, soft) + Alpha * soft + 0.5 * hard, with Dwa's weights 1 at the first call.
        Assert.Equal(1.5 + 0.5 + (alpha * 0.5) + (0.5 * 1.5), metrics["distill/total"], 12);

        result.Dispose();
        Assert.Throws<ObjectDisposedException>(() => result.Alpha);
        Assert.Throws<ObjectDisposedException>(() => result.Metrics());
    }

    [Fact]
    public void NumbersInTheResultLeaveNoTensorAlive()
    {
        var loss = new ConfiguredScheduleLoss();
        using var inputs = NewDisposeScope();
        Tensor hard = tensor(1.5), soft = tensor(0.5);
        loss.Compute(hard, soft, 1.0).Dispose();
        Assert.Equal(0, LiveTensors.AddedBy(20, () =>
        {
            var result = loss.Compute(hard, soft, 1.0);
            _ = result.Metrics();
            return result;
        }));
    }

    private static double Run(ConfiguredScheduleLoss loss, int call)
    {
        loss.ComputeState.Step = call * 7;
        using var result = loss.Compute(tensor(1.0 + (0.25 * call)), tensor(0.5 + (0.1 * call)), 1.0);
        return result.Total.item<double>();
    }

    private static byte[] Snapshot(LossState state)
    {
        using var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }

    private static (string Explanation, LossState State, Func<Tensor, double> Compute) Case(ScheduleReferenceLoss loss, string name) => name switch
    {
        "linear" => (ScheduleReferenceLoss.LinearExplanation, loss.LinearState, h => { using var r = loss.Linear(h); return r.W; }),
        "linear from" => (ScheduleReferenceLoss.LinearFromExplanation, loss.LinearFromState, h => { using var r = loss.LinearFrom(h); return r.W; }),
        "cosine" => (ScheduleReferenceLoss.CosineExplanation, loss.CosineState, h => { using var r = loss.Cosine(h); return r.W; }),
        "cosine from" => (ScheduleReferenceLoss.CosineFromExplanation, loss.CosineFromState, h => { using var r = loss.CosineFrom(h); return r.W; }),
        "multistep" => (ScheduleReferenceLoss.MultiStepExplanation, loss.MultiStepState, h => { using var r = loss.MultiStep(h); return r.W; }),
        "step" => (ScheduleReferenceLoss.StepExplanation, loss.StepState, h => { using var r = loss.Step(h); return r.W; }),
        "linear warmup" => (ScheduleReferenceLoss.LinearWarmupExplanation, loss.LinearWarmupState, h => { using var r = loss.LinearWarmup(h); return r.W; }),
        "cosine warmup" => (ScheduleReferenceLoss.CosineWarmupExplanation, loss.CosineWarmupState, h => { using var r = loss.CosineWarmup(h); return r.W; }),
        _ => throw new ArgumentException($"No loss for the schedule case '{name}'.", nameof(name)),
    };

    private sealed record ReferenceCase(string Name, string Formula, IReadOnlyList<(string Member, double Value)> Members, double[] Values);

    private static IReadOnlyList<ReferenceCase> ReadReference([CallerFilePath] string source = "")
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(source)!, "Reference", "schedules.json")));
        return document.RootElement.GetProperty("cases").EnumerateArray().Select(c => new ReferenceCase(
            c.GetProperty("name").GetString()!,
            c.GetProperty("formula").GetString()!,
            c.GetProperty("members").EnumerateObject().Select(m => (m.Name, m.Value.GetDouble())).ToList(),
            c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray())).ToList();
    }
}
