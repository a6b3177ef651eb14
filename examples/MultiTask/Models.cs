using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiTask;

/// <summary>What the network predicts for a batch: one output per task.</summary>
public sealed record Predictions(Tensor Logits, Tensor Regression, Tensor Reconstruction);

/// <summary>
/// Hard parameter sharing: a shared trunk (two layers, the last one narrow) and one head per task.
/// The trunk's last layer is where the tasks compete; GradNorm compares their gradients on its weight.
/// </summary>
public sealed class SharedTrunkNetwork : Module
{
    public const int Hidden = 64;
    public const int Shared = 16;

    private readonly Linear trunk1;
    private readonly Linear trunk2;
    private readonly Linear classHead;
    private readonly Linear regressionHidden;
    private readonly Linear regressionHead;
    private readonly Linear reconstructionHead;

    public SharedTrunkNetwork(string name) : base(name)
    {
        trunk1 = Linear(SyntheticTasks.Inputs, Hidden);
        trunk2 = Linear(Hidden, Shared);
        classHead = Linear(Shared, SyntheticTasks.Classes);
        regressionHidden = Linear(Shared, 32);
        regressionHead = Linear(32, 1);
        reconstructionHead = Linear(Shared, SyntheticTasks.Inputs);
        RegisterComponents();
    }

    /// <summary>The weight of the last shared layer.</summary>
    public Parameter SharedWeight => trunk2.weight!;

    /// <summary>
    /// Registers a loss's state (a module) as the child <c>loss</c>, so that the network's
    /// <c>parameters()</c>, <c>train()</c>/<c>eval()</c> and <c>to()</c> include it.
    /// </summary>
    public void RegisterLossState(Module state) => register_module("loss", state);

    public Predictions Forward(Tensor x)
    {
        Tensor h = functional.gelu(trunk2.forward(functional.gelu(trunk1.forward(x))));
        return new Predictions(
            classHead.forward(h),
            regressionHead.forward(functional.gelu(regressionHidden.forward(h))),
            reconstructionHead.forward(h));
    }
}
