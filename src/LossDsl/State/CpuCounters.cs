using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.State;

/// <summary>
/// Whole-number counters of a stateful site (updates seen, windows completed, the step), kept as
/// registered 0-dim int64 buffers so that <c>state_dict()</c>, <c>save</c> and <c>load</c> carry
/// them, and pinned to the CPU so that reading one on the host never waits for a device.
/// </summary>
public sealed class CpuCounters : nn.Module
{
    private readonly List<string> _names = new();

    /// <summary>Creates the counters, all 0.</summary>
    public CpuCounters(params string[] names) : base(nameof(CpuCounters))
    {
        foreach (string name in names)
        {
            Tensor counter = zeros(Array.Empty<long>(), ScalarType.Int64).DetachFromDisposeScope();
            register_buffer(name, counter);
            _names.Add(name);
        }
    }

    /// <summary>The counter's value.</summary>
    public long this[string name]
    {
        get => Buffer(name).item<long>();
        set => Buffer(name).fill_(value);
    }

    /// <summary>Everything is registered explicitly.</summary>
    protected override void RegisterComponents() { }

    private Tensor Buffer(string name) => get_buffer(name) ?? throw new ArgumentException($"No counter '{name}'.", nameof(name));

    // Counters stay on the CPU whatever device or dtype the state moves to: they drive host-side
    // decisions, which must not synchronise with the device.
    /// <summary>Stays on the CPU, in int64.</summary>
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking) => this;

    /// <summary>Stays on the CPU.</summary>
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking) => this;

    /// <summary>Stays in int64.</summary>
    protected override nn.Module _to(ScalarType dtype, bool non_blocking) => this;
}
