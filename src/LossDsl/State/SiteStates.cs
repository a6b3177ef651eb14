using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.State;

/// <summary>
/// The state of one stateful site of a formula: its running statistics as registered buffers
/// (float64 when created, moved and converted by <c>to()</c>), its whole-number counters on the
/// CPU, and for <c>Uncertainty</c> its learnable parameters. Generated code and
/// <see cref="Strategies"/> use these; users see them through <c>state_dict()</c> and
/// <c>named_buffers()</c>.
/// </summary>
public abstract class SiteState : nn.Module
{
    /// <summary>The name of the statistic that counts the observations a site left out: <c>skipped</c>.</summary>
    internal const string SkippedStatistic = "skipped";

    /// <summary>Creates a site with the given float64 buffers (each of <paramref name="length"/> values, or 0-dim when 0) and counters.</summary>
    protected SiteState(string kind, long length, string[] buffers, string[] counters) : base(kind)
    {
        Length = length;
        foreach (string name in buffers)
        {
            Tensor buffer = (length == 0 ? zeros(Array.Empty<long>(), ScalarType.Float64) : zeros(length, ScalarType.Float64)).DetachFromDisposeScope();
            register_buffer(name, buffer);
        }
        Counters = new CpuCounters(counters);
        register_module("counters", Counters);
    }

    /// <summary>How many terms the site weighs (0 for a single scale).</summary>
    public long Length { get; }

    /// <summary>The site's whole-number counters (a child module: to() moves modules in place, so this stays the one registered).</summary>
    public CpuCounters Counters { get; }

    /// <summary>Everything is registered explicitly, under the names checkpoints use.</summary>
    protected override void RegisterComponents() { }

    /// <summary>A running statistic, as the module holds it now (after <c>to()</c> it is a new tensor).</summary>
    public Tensor Statistic(string name) => get_buffer(name) ?? throw new ArgumentException($"The site has no statistic '{name}'.", nameof(name));

    /// <summary>The count of skipped observations, for a site that keeps statistics; null for one that keeps none.</summary>
    internal Tensor? Skipped => get_buffer(SkippedStatistic);

    /// <summary>
    /// Checks the values a checkpoint would load into this site against the site's invariants.
    /// <paramref name="values"/> holds every entry of the site by its name within the site
    /// (<c>mx</c>, <c>counters.count</c>), already converted to the state's dtypes and known to be
    /// finite. Returns the first value that breaks an invariant, or null when all hold.
    /// </summary>
    internal virtual SiteProblem? Check(IReadOnlyDictionary<string, double[]> values) => null;

    /// <summary>The first value of <paramref name="entry"/> that <paramref name="holds"/> rejects, with the rule it breaks.</summary>
    private protected static SiteProblem? First(IReadOnlyDictionary<string, double[]> values, string entry, Func<double, int, bool> holds, string rule)
    {
        double[] data = values[entry];
        for (int i = 0; i < data.Length; i++)
        {
            if (!holds(data[i], i))
            {
                return new SiteProblem(entry, i, rule);
            }
        }
        return null;
    }

    /// <summary>Whether <paramref name="value"/> is a count: a whole number from 0 to <see cref="LossState.MaxCount"/>.</summary>
    private protected static bool IsCount(double value) => value >= 0 && value <= LossState.MaxCount && value == Math.Floor(value);

    /// <summary>The rule a count breaks, for messages.</summary>
    private protected const string CountRule = "a count is a whole number from 0 to 9007199254740992 (2^53)";
}

/// <summary>A value of a checkpoint that breaks an invariant of its site: the entry (within the site), the index, and the rule.</summary>
internal readonly record struct SiteProblem(string Entry, int Index, string Rule);

/// <summary>
/// <c>Balance(x, to: y, ema: β)</c>: moving averages of |sg(x)| and |sg(y)|, the bias-correction
/// weight <c>w</c> (a moving average of ones over the updates taken, 1 − βᵗ after t of them), and
/// the number of skipped updates.
/// </summary>
public sealed class EmaBalanceState() : SiteState("EmaBalance", 0, new[] { "mx", "my", "w", SkippedStatistic }, Array.Empty<string>())
{
    internal override SiteProblem? Check(IReadOnlyDictionary<string, double[]> values)
    {
        double weight = values["w"][0];
        return First(values, "mx", (v, _) => v >= 0, "a moving average of magnitudes is never negative")
            ?? First(values, "my", (v, _) => v >= 0, "a moving average of magnitudes is never negative")
            ?? First(values, "w", (v, _) => v >= 0 && v <= 1, "the bias-correction weight is from 0 to 1")
            ?? First(values, "mx", (v, _) => weight > 0 || v == 0, "the averages are 0 until the first update (w is 0)")
            ?? First(values, "my", (v, _) => weight > 0 || v == 0, "the averages are 0 until the first update (w is 0)")
            ?? First(values, SkippedStatistic, (v, _) => IsCount(v), CountRule);
    }
}

/// <summary>
/// <c>Dwa</c>: the running sum of the open window and the number of values it took (per term),
/// the means of the last two windows, the number of skipped values (per term), and the counts
/// of calls in the open window and of complete windows.
/// </summary>
public sealed class DwaState(long length) : SiteState("Dwa", length, new[] { "sum", "valid", "previous", "before", SkippedStatistic }, new[] { "count", "windows" })
{
    internal override SiteProblem? Check(IReadOnlyDictionary<string, double[]> values)
    {
        double calls = values["counters.count"][0];
        double[] valid = values["valid"];
        return First(values, "valid", (v, _) => IsCount(v), CountRule)
            ?? First(values, "valid", (v, _) => v <= calls, $"the values taken in the open window cannot exceed its updates (counters.count, {calls:R})")
            ?? First(values, "sum", (v, i) => valid[i] > 0 || v == 0, "the open window's sum is 0 where it took no value")
            ?? First(values, SkippedStatistic, (v, _) => IsCount(v), CountRule);
    }
}

/// <summary>
/// <c>CoV</c>: per term, the running mean of the loss's magnitude, Welford statistics of the
/// ratios of the magnitude to that mean, the number of updates taken and the number skipped.
/// </summary>
public sealed class CovState(long length) : SiteState("CoV", length, new[] { "mean_loss", "mean_ratio", "m2_ratio", "count", SkippedStatistic }, Array.Empty<string>())
{
    internal override SiteProblem? Check(IReadOnlyDictionary<string, double[]> values)
    {
        double[] count = values["count"];
        return First(values, "count", (v, _) => IsCount(v), CountRule)
            ?? First(values, "mean_loss", (v, _) => v >= 0, "a running mean of magnitudes is never negative")
            ?? First(values, "mean_ratio", (v, _) => v >= 0, "a running mean of ratios of magnitudes is never negative")
            ?? First(values, "m2_ratio", (v, _) => v >= 0, "a sum of squared deviations is never negative")
            ?? First(values, "mean_loss", (v, i) => count[i] > 0 || v == 0, "the statistics are 0 until the term's first update (count is 0)")
            ?? First(values, "mean_ratio", (v, i) => count[i] > 0 ? v > 0 : v == 0, "the mean ratio is 0 before the term's first update and positive after it (the first ratio is 1)")
            ?? First(values, "m2_ratio", (v, i) => count[i] > 1 || v == 0, "the sum of squared deviations is 0 until the term's second update")
            ?? First(values, SkippedStatistic, (v, _) => IsCount(v), CountRule);
    }
}

/// <summary><c>Uncertainty</c>: one learnable log-variance per term (a parameter, for the optimizer).</summary>
public sealed class UncertaintyState : SiteState
{
    /// <summary>Creates the log-variances, all 0, in TorchSharp's default dtype.</summary>
    public UncertaintyState(long length) : base("Uncertainty", length, Array.Empty<string>(), Array.Empty<string>())
    {
        using var initial = zeros(length);
        var parameter = nn.Parameter(initial);
        parameter.DetachFromDisposeScope();
        register_parameter("log_variance", parameter);
    }

    /// <summary>The log-variances, as the module holds them now (after <c>to()</c> they are a new parameter).</summary>
    public TorchSharp.Modules.Parameter LogVariance => get_parameter("log_variance")!;
}

/// <summary>
/// <c>Anneal</c>: the smoothed weight λ (1 before the first update) and the number of skipped
/// updates (an estimate that was not finite).
/// </summary>
public sealed class AnnealState : SiteState
{
    /// <summary>Creates the state with λ = 1.</summary>
    public AnnealState() : base("Anneal", 0, new[] { "weight", SkippedStatistic }, Array.Empty<string>())
    {
        using (no_grad())
        {
            Statistic("weight").fill_(1.0);
        }
    }

    internal override SiteProblem? Check(IReadOnlyDictionary<string, double[]> values)
        => First(values, "weight", (v, _) => v >= 0, "the annealed weight is a smoothed ratio of gradient magnitudes, never negative")
           ?? First(values, SkippedStatistic, (v, _) => IsCount(v), CountRule);
}

/// <summary>
/// <c>GradNorm</c>: the task weights (1 each before the first update; they always sum to the
/// number of terms), each term's initial loss Lᵢ(0) (0 until captured), and the number of
/// skipped updates.
/// </summary>
public sealed class GradNormState : SiteState
{
    /// <summary>Creates the state with every weight 1 and no initial loss captured.</summary>
    public GradNormState(long length) : base("GradNorm", length, new[] { "weights", "initial" }, Array.Empty<string>())
    {
        using (no_grad())
        {
            Statistic("weights").fill_(1.0);
        }
        // An update moves every weight or none: one count of skipped updates, not one per term.
        register_buffer(SkippedStatistic, zeros(Array.Empty<long>(), ScalarType.Float64).DetachFromDisposeScope());
    }

    internal override SiteProblem? Check(IReadOnlyDictionary<string, double[]> values)
    {
        double sum = 0;
        foreach (double weight in values["weights"])
        {
            sum += weight;
        }
        return First(values, "weights", (v, _) => v > 0, "a task weight is greater than 0")
            ?? First(values, "weights", (_, _) => Math.Abs(sum - Length) <= 1e-6 * Length, $"the task weights sum to the number of terms, {Length}")
            ?? First(values, "initial", (v, _) => v >= 0, "an initial loss is greater than 0 once captured, and 0 before")
            ?? First(values, SkippedStatistic, (v, _) => IsCount(v), CountRule);
    }
}

/// <summary>The training step, which schedules read.</summary>
public sealed class StepState() : SiteState("Step", 0, Array.Empty<string>(), new[] { "step" });
