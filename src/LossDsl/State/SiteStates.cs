using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.State;

/// <summary>
/// The state of one stateful site of a formula: its running statistics as registered buffers (in
/// the state's dtype, moved by <c>to()</c>), its whole-number counters on the CPU, and for
/// <c>Uncertainty</c> its learnable parameters. Generated code and <see cref="Strategies"/> use
/// these; users see them through <c>state_dict()</c> and <c>named_buffers()</c>.
/// </summary>
public abstract class SiteState : nn.Module
{
    /// <summary>Creates a site with the given float buffers (each of <paramref name="length"/> values, or 0-dim when 0) and counters.</summary>
    protected SiteState(string kind, long length, string[] buffers, string[] counters) : base(kind)
    {
        Length = length;
        foreach (string name in buffers)
        {
            Tensor buffer = (length == 0 ? zeros(Array.Empty<long>()) : zeros(length)).DetachFromDisposeScope();
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

}

/// <summary><c>Balance(x, to: y, ema: β)</c>: moving averages of |sg(x)| and |sg(y)|, and the number of updates.</summary>
public sealed class EmaBalanceState() : SiteState("EmaBalance", 0, new[] { "mx", "my" }, new[] { "t" });

/// <summary><c>Dwa</c>: the running sum of the open window, the means of the last two windows, and the counts.</summary>
public sealed class DwaState(long length) : SiteState("Dwa", length, new[] { "sum", "previous", "before" }, new[] { "count", "windows" });

/// <summary><c>CoV</c>: Welford statistics of the loss ratios, the running mean of the losses, and the number of updates.</summary>
public sealed class CovState(long length) : SiteState("CoV", length, new[] { "mean_loss", "mean_ratio", "m2_ratio" }, new[] { "t" });

/// <summary><c>Uncertainty</c>: one learnable log-variance per term (a parameter, for the optimizer).</summary>
public sealed class UncertaintyState : SiteState
{
    /// <summary>Creates the log-variances, all 0.</summary>
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

/// <summary>The training step, which schedules read.</summary>
public sealed class StepState() : SiteState("Step", 0, Array.Empty<string>(), new[] { "step" });
