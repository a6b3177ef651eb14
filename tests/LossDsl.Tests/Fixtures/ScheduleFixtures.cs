using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

// Schedules whose lengths are members read at call time, and the numbers they put in the result.

/// <summary>One loss per case of Reference/schedules.json; <c>W</c> is the schedule's value.</summary>
public partial class ScheduleReferenceLoss
{
    public int Steps { get; set; }
    public long From { get; set; }
    public double Warmup { get; set; }
    public float First { get; set; }
    public int Second { get; set; }

    [Loss("W = Linear(0.9, 0.1, Steps)\nTotal = W * hard")]
    public partial ScheduleLinearResult Linear(Tensor hard);

    [Loss("W = Linear(0.9, 0.1, Steps, from: From)\nTotal = W * hard")]
    public partial ScheduleLinearFromResult LinearFrom(Tensor hard);

    [Loss("W = Cosine(0.9, 0.1, Steps)\nTotal = W * hard")]
    public partial ScheduleCosineResult Cosine(Tensor hard);

    [Loss("W = Cosine(0.9, 0.1, Steps, from: From)\nTotal = W * hard")]
    public partial ScheduleCosineFromResult CosineFrom(Tensor hard);

    [Loss("W = Piecewise(1, First, 0.5, Second, 0.25)\nTotal = W * hard")]
    public partial ScheduleMultiStepResult MultiStep(Tensor hard);

    [Loss("W = Piecewise(2, 80, 0.6, 160, 0.18, 240, 0.054, 320, 0.0162)\nTotal = W * hard")]
    public partial ScheduleStepResult Step(Tensor hard);

    [Loss("W = Linear(1, 0, Steps, warmup: Warmup)\nTotal = W * hard")]
    public partial ScheduleLinearWarmupResult LinearWarmup(Tensor hard);

    [Loss("W = Cosine(1, 0.05, Steps, warmup: Warmup)\nTotal = W * hard")]
    public partial ScheduleCosineWarmupResult CosineWarmup(Tensor hard);
}

/// <summary>
/// A distillation-style loss whose alpha follows a cosine over a length the run configures, with
/// a statistic (Dwa) that a failed call must not change.
/// </summary>
public partial class ConfiguredScheduleLoss
{
    public int TotalSteps { get; set; } = 100;
    public double Hold { get; set; }
    public double WarmupSteps { get; set; }
    public long Later { get; set; } = 50;

    [Loss("""
        Alpha = Cosine(0.9, 0.1, TotalSteps, from: Hold, warmup: WarmupSteps)
        Scaled = Alpha * weight
        Total = Dwa(hard, soft) + Alpha * soft + Piecewise(1, 10, 0.5, Later, 0.25) * hard
        """, MetricsPrefix = "distill/")]
    public partial ConfiguredScheduleResult Compute(Tensor hard, Tensor soft, double weight);
}

/// <summary>A schedule whose length and warm-up are parameters of the loss method.</summary>
public partial class ParameterLengthLoss
{
    [Loss("Total = Linear(1, 0, steps, warmup: warm) * hard")]
    public partial ParameterLengthResult Compute(Tensor hard, long steps, float warm);
}
