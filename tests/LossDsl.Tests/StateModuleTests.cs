using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LossDsl.State;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The loss state behaves like any TorchSharp module registered in a model: eval() freezes it,
/// state_dict() and TorchSharp's own save/load carry all of it, to() moves all of it.
/// </summary>
public class StateModuleTests
{
    /// <summary>A small model that owns its loss's state as a child module, as the README suggests.</summary>
    private sealed class Model : nn.Module<Tensor, Tensor>
    {
        private readonly Linear _layer;

        public Model(LossState state) : base(nameof(Model))
        {
            _layer = nn.Linear(4, 3);
            register_module("layer", _layer);
            register_module("loss", state);
        }

        public override Tensor forward(Tensor input) => _layer.forward(input);
    }

    private sealed record Run(AllStrategiesLoss Loss, Model Model, optim.Optimizer Optimizer);

    private static Run NewRun()
    {
        torch.manual_seed(7);
        var loss = new AllStrategiesLoss();
        var model = new Model(loss.ComputeState);
        model.to(ScalarType.Float64);
        // The model's parameters include the state's learnable log-variances.
        return new Run(loss, model, optim.SGD(model.parameters(), 0.01));
    }

    /// <summary>One training step on batch <paramref name="step"/>; returns the loss's total.</summary>
    private static double Step(Run run, int step)
    {
        using var scope = NewDisposeScope();
        var random = new Random(step);
        Tensor input = tensor(Enumerable.Range(0, 8).Select(_ => random.NextDouble() - 0.5).ToArray(), new long[] { 2, 4 }, ScalarType.Float64);
        Tensor output = run.Model.forward(input);
        Tensor hard = output.pow(2).mean(), soft = output.abs().mean().mul(3), feature = output.sum().abs().add(0.1);
        using var result = run.Loss.Compute(hard, soft, feature);
        run.Optimizer.zero_grad();
        result.Total.backward();
        run.Optimizer.step();
        run.Loss.ComputeState.Advance();
        return result.Total.item<double>();
    }

    private static byte[] StateBytes(LossState state)
    {
        var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void ModelEvalFreezesTheStateForEvaluationCalls()
    {
        Run run = NewRun();
        for (int step = 0; step < 30; step++)
        {
            Step(run, step);
        }
        byte[] before = StateBytes(run.Loss.ComputeState);

        run.Model.eval();
        Assert.False(run.Loss.ComputeState.training);
        using (var scope = NewDisposeScope())
        {
            for (int call = 0; call < 10; call++)
            {
                using var result = run.Loss.Compute(tensor(1.0 + call), tensor(0.5), tensor(0.25));
            }
        }

        Assert.Equal(before, StateBytes(run.Loss.ComputeState));
    }

    [Fact]
    public void TheModelsStateDictHoldsEveryStatisticCounterAndParameter()
    {
        Run run = NewRun();
        Step(run, 0);

        var keys = run.Model.state_dict().Keys.ToHashSet();

        string[] expected =
        {
            "loss.balance0.mx", "loss.balance0.my", "loss.balance0.w", "loss.balance0.skipped",
            "loss.dwa0.sum", "loss.dwa0.valid", "loss.dwa0.previous", "loss.dwa0.before", "loss.dwa0.skipped", "loss.dwa0.counters.count", "loss.dwa0.counters.windows",
            "loss.cov0.mean_loss", "loss.cov0.mean_ratio", "loss.cov0.m2_ratio", "loss.cov0.count", "loss.cov0.skipped",
            "loss.uncertainty0.log_variance", "loss.step.counters.step",
        };
        Assert.All(expected, key => Assert.Contains(key, keys));
    }

    [Fact]
    public void TorchSharpsOwnSaveAndLoadResumeBitIdentically()
    {
        Run uninterrupted = NewRun();
        double[] all = new double[80];
        for (int step = 0; step < all.Length; step++)
        {
            all[step] = Step(uninterrupted, step); // in order: LINQ's Skip would not run the skipped steps
        }
        double[] expected = all[30..];

        Run first = NewRun();
        for (int step = 0; step < 30; step++)
        {
            Step(first, step);
        }
        string path = Path.Combine(Path.GetTempPath(), $"lossdsl-model-{Guid.NewGuid():N}.bin");
        try
        {
            first.Model.save(path);
            Run resumed = NewRun();
            resumed.Model.load(path);
            Assert.Equal(30, resumed.Loss.ComputeState.Step);
            Assert.Equal(StateBytes(first.Loss.ComputeState), StateBytes(resumed.Loss.ComputeState));
            foreach (var (name, value) in first.Model.state_dict())
            {
                Assert.True(value.equal(resumed.Model.state_dict()[name]).all().item<bool>(), name);
            }

            double[] actual = new double[50];
            for (int step = 30; step < 80; step++)
            {
                actual[step - 30] = Step(resumed, step);
            }

            Assert.Equal(expected, actual);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ToConvertsEveryStatisticAndTheNextCallComputesInIt()
    {
        // Statistics are created in float64, the log-variances in TorchSharp's default dtype; to()
        // converts both, and leaves the counters int64 on the CPU.
        var loss = new AllStrategiesLoss();
        LossState state = loss.ComputeState;
        Assert.All(state.named_buffers(), b => Assert.Equal(b.name.Contains(".counters.") ? ScalarType.Int64 : ScalarType.Float64, b.buffer.dtype));
        Assert.All(state.named_parameters(), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));

        state.to(ScalarType.Float32);
        using (var scope = NewDisposeScope())
        {
            using var result = loss.Compute(tensor(1.0), tensor(2.0), tensor(3.0));
        }

        Assert.All(state.named_buffers(), b => Assert.Equal(b.name.Contains(".counters.") ? ScalarType.Int64 : ScalarType.Float32, b.buffer.dtype));
        Assert.All(state.named_parameters(), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
        Tensor count = state.Site<CovState>("cov0").Statistic("count");
        Assert.Equal(ScalarType.Float32, count.dtype);
        Assert.Equal(new[] { 1f, 1f }, count.data<float>().ToArray()); // the call updated the converted statistics
        Assert.Equal(DeviceType.CPU, state.Site<DwaState>("dwa0").Counters.named_buffers().First().buffer.device_type);
    }

    [Fact]
    public void AForgottenAdvanceIsReportedOnceAfterAFewHundredCalls()
    {
        var loss = new ScheduledLoss();
        var warnings = new List<string>();
        loss.ComputeState.Warning = warnings.Add;
        using var scope = NewDisposeScope();

        for (int call = 0; call < 3 * LossState.FrozenStepWarningCalls; call++)
        {
            using var result = loss.Compute(tensor(1.0), tensor(1.0), tensor(1.0));
        }

        string warning = Assert.Single(warnings);
        Assert.Contains("Advance()", warning);
        Assert.Contains("frozen", warning);
    }

    [Fact]
    public void AnAdvancedStepOrAnEvaluationRaisesNoWarning()
    {
        var loss = new ScheduledLoss();
        var warnings = new List<string>();
        loss.ComputeState.Warning = warnings.Add;
        using var scope = NewDisposeScope();

        for (int call = 0; call < 2 * LossState.FrozenStepWarningCalls; call++)
        {
            using var result = loss.Compute(tensor(1.0), tensor(1.0), tensor(1.0));
            loss.ComputeState.Advance();
        }
        loss.ComputeState.eval();
        for (int call = 0; call < 2 * LossState.FrozenStepWarningCalls; call++)
        {
            using var result = loss.Compute(tensor(1.0), tensor(1.0), tensor(1.0));
        }

        Assert.Empty(warnings);
    }

    [Fact]
    public void DisposingTheStateReleasesEveryTensorItHeld()
    {
        long before = LossDsl.Testing.LiveTensors.Count;
        var loss = new AllStrategiesLoss();
        using (var scope = NewDisposeScope())
        {
            for (int call = 0; call < 3; call++)
            {
                using var result = loss.Compute(tensor(1.0 + call), tensor(0.5), tensor(0.25));
            }
        }
        Assert.True(LossDsl.Testing.LiveTensors.Count > before); // statistics, counters, log-variances

        loss.ComputeState.Dispose();

        Assert.Equal(before, LossDsl.Testing.LiveTensors.Count);
    }
}
