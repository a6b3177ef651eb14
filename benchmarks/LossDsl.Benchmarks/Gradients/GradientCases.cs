using System;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.Gradients;

/// <summary>
/// One rule of balancing by gradients on its setting, generated and by hand: the loss call each
/// way, and the training step the benchmark times (forward, the loss, backward, zeroing the
/// gradients), identical but for the loss. The two losses keep their own state (GradNorm's
/// weights, Anneal's λ), so each sees every call.
/// </summary>
public abstract class GradientCase : IDisposable
{
    /// <summary>The values each loss call returns, in the order of <see cref="Generated"/>'s and <see cref="Expert"/>'s values: Total first.</summary>
    public abstract string[] Names { get; }

    /// <summary>The setting the terms come from.</summary>
    public abstract GradientSetting Setting { get; }

    /// <summary>The network's forward: the tensors the loss takes, with their graph.</summary>
    public abstract Tensor[] Forward();

    /// <summary>The generated loss on <paramref name="terms"/>: its result, and its values in the order of <see cref="Names"/>.</summary>
    public abstract (IDisposable Result, Tensor[] Values) Generated(Tensor[] terms);

    /// <summary>The hand-written loss on <paramref name="terms"/>: its result, and its values in the order of <see cref="Names"/>.</summary>
    public abstract (IDisposable Result, Tensor[] Values) Expert(Tensor[] terms);

    /// <summary>
    /// The case of <paramref name="rule"/>: at the benchmark's sizes, at which one step takes a
    /// millisecond or more, or <paramref name="tiny"/> (the census: tensor counts do not depend on
    /// sizes, and 10,000 tiny calls stay quick).
    /// </summary>
    public static GradientCase Create(GradientRule rule, bool tiny = false) => rule switch
    {
        GradientRule.Vqgan => new VqganCase(tiny ? VqganSetting.Create(batch: 4, features: 8, latent: 4) : VqganSetting.Create(batch: 128, features: 512, latent: 128)),
        GradientRule.GradNorm => new GradNormCase(tiny ? GradNormSetting.Create(batch: 4, features: 8, hidden: 8, outputs: 2) : GradNormSetting.Create(batch: 128, features: 512, hidden: 256, outputs: 64)),
        GradientRule.Anneal => new AnnealCase(tiny ? AnnealSetting.Create(interior: 8, boundary: 4, hidden: 8) : AnnealSetting.Create(interior: 2048, boundary: 512, hidden: 64)),
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Not a rule of balancing by gradients."),
    };

    /// <summary>One training step without the optimizer: forward, the loss, backward on its Total, the gradients zeroed.</summary>
    public void Step(bool generated)
    {
        using (NewDisposeScope())
        {
            Tensor[] terms = Forward();
            var (result, values) = generated ? Generated(terms) : Expert(terms);
            using (result)
            {
                values[0].backward();
            }
        }
        Setting.ZeroGrad();
    }

    public virtual void Dispose() => Setting.Dispose();

    private sealed class VqganCase(VqganSetting setting) : GradientCase
    {
        private readonly VqganLoss _generated = new(setting.Decoder.weight!) { DiscriminatorWeight = VqganSetting.DiscriminatorWeight };
        private readonly ExpertVqgan _expert = new(setting.Decoder.weight!);

        public override string[] Names { get; } = { "Total", "Rec", "Gan", "GanScale" };

        public override GradientSetting Setting => setting;

        public override Tensor[] Forward()
        {
            var (reconstruction, fakeLogits) = setting.Forward();
            return new[] { reconstruction, fakeLogits };
        }

        public override (IDisposable Result, Tensor[] Values) Generated(Tensor[] terms)
        {
            VqganResult result = _generated.Compute(terms[0], setting.Input, terms[1]);
            return (result, new[] { result.Total, result.Rec, result.Gan, result.GanScale });
        }

        public override (IDisposable Result, Tensor[] Values) Expert(Tensor[] terms)
        {
            ExpertGradientResult result = _expert.Compute(terms[0], setting.Input, terms[1]);
            return (result, new[] { result.Total, result.Values[0], result.Values[1], result.Values[2] });
        }
    }

    private sealed class GradNormCase(GradNormSetting setting) : GradientCase
    {
        private readonly GradNormLoss _generated = new(setting.Trunk.weight!);
        private readonly ExpertGradNorm _expert = new(setting.Trunk.weight!);

        public override string[] Names { get; } = { "Total", "AGradNormWeight", "BGradNormWeight", "CGradNormWeight", "SkippedUpdates" };

        public override GradientSetting Setting => setting;

        public override Tensor[] Forward()
        {
            var (a, b, c) = setting.Forward();
            return new[] { a, b, c };
        }

        public override (IDisposable Result, Tensor[] Values) Generated(Tensor[] terms)
        {
            GradNormResult result = _generated.Compute(terms[0], terms[1], terms[2]);
            return (result, new[] { result.Total, result.AGradNormWeight, result.BGradNormWeight, result.CGradNormWeight, result.SkippedUpdates });
        }

        public override (IDisposable Result, Tensor[] Values) Expert(Tensor[] terms)
        {
            ExpertGradientResult result = _expert.Compute(terms[0], terms[1], terms[2]);
            return (result, new[] { result.Total, result.Values[0], result.Values[1], result.Values[2], result.Values[3] });
        }

        public override void Dispose()
        {
            _expert.Dispose();
            _generated.ComputeState.Dispose();
            base.Dispose();
        }
    }

    private sealed class AnnealCase(AnnealSetting setting) : GradientCase
    {
        private readonly AnnealLoss _generated = new(setting.Network);
        private readonly ExpertAnneal _expert = new(setting.Network);

        public override string[] Names { get; } = { "Total", "BoundaryAnnealScale", "SkippedUpdates" };

        public override GradientSetting Setting => setting;

        public override Tensor[] Forward()
        {
            var (residual, boundary) = setting.Forward();
            return new[] { residual, boundary };
        }

        public override (IDisposable Result, Tensor[] Values) Generated(Tensor[] terms)
        {
            AnnealResult result = _generated.Compute(terms[0], terms[1]);
            return (result, new[] { result.Total, result.BoundaryAnnealScale, result.SkippedUpdates });
        }

        public override (IDisposable Result, Tensor[] Values) Expert(Tensor[] terms)
        {
            ExpertGradientResult result = _expert.Compute(terms[0], terms[1]);
            return (result, new[] { result.Total, result.Values[0], result.Values[1] });
        }

        public override void Dispose()
        {
            _expert.Dispose();
            _generated.ComputeState.Dispose();
            base.Dispose();
        }
    }
}
