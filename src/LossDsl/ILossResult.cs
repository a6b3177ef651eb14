using System;
using System.Collections.Generic;
using TorchSharp;

namespace LossDsl;

/// <summary>
/// What every generated loss result offers, so that a generic training loop can use any of them.
/// Disposing the result disposes every tensor it holds.
/// </summary>
public interface ILossResult : IDisposable
{
    /// <summary>The loss: the value of the formula's last binding. Call <c>backward()</c> on it.</summary>
    torch.Tensor Loss { get; }

    /// <summary>
    /// Every value of the result (terms, bindings, scales) fetched to the host in one transfer,
    /// keyed in snake_case with the loss's metrics prefix.
    /// </summary>
    IReadOnlyDictionary<string, double> Metrics();
}
