using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl;
using MultiTask.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiTask;

/// <summary>One logged step of one method on one seed: training metrics, held-out metrics, or both.</summary>
public sealed record MetricRow(Method Method, int Seed, int Step, IReadOnlyDictionary<string, double> Values);

/// <summary>The held-out metrics of the three tasks after training.</summary>
public sealed record TaskMetrics(Method Method, int Seed, double Accuracy, double RegressionRmse, double ReconstructionMse);

/// <summary>Trains the shared-trunk network with one weighting method on one seed's data.</summary>
public sealed class Training(RunOptions options, Device device)
{
    public const string Accuracy = "heldout/accuracy";
    public const string RegressionRmse = "heldout/regression_rmse";
    public const string ReconstructionMse = "heldout/reconstruction_mse";

    /// <summary>The observations the state of Dwa, CoV or GradNorm left out so far (no other method has it).</summary>
    public const string SkippedUpdates = "loss/skipped_updates";

    /// <summary>The tasks, in the order of the formulas' arguments.</summary>
    public static readonly string[] Tasks = { "classification", "regression", "reconstruction" };

    /// <summary>The total and the terms, which every method's result has.</summary>
    private static readonly string[] LossKeys = { "loss/total", "loss/classification", "loss/regression", "loss/reconstruction" };

    /// <summary>Every column of metrics.csv after method, seed and step.</summary>
    public static readonly string[] MetricKeys =
    {
        "loss/total", "loss/classification", "loss/regression", "loss/reconstruction",
        "weight/classification", "weight/regression", "weight/reconstruction", SkippedUpdates,
        Accuracy, RegressionRmse, ReconstructionMse,
    };

    /// <summary>
    /// Trains from the seed's initial weights on the seed's batches (the same for every method),
    /// evaluating on the held-out set every <see cref="RunOptions.EvalEvery"/> steps and at the end.
    /// </summary>
    public TaskMetrics Run(Method method, int seed, SyntheticTasks tasks, Action<MetricRow> log, Action<int> progress)
    {
        manual_seed(seed + 1);
        using var network = new SharedTrunkNetwork("network");
        var loss = new MultiTaskLoss(network);
        LossState? state = method switch
        {
            Method.Equal => null,
            Method.Uncertainty => loss.UncertaintyWeightingState,
            Method.Dwa => loss.DwaWeightingState,
            Method.CoV => loss.CovWeightingState,
            Method.Balance => null,
            Method.GradNorm => loss.GradNormWeightingState,
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown method"),
        };
        if (state is not null)
        {
            // The network's parameters() then include Uncertainty's log-variances, and its eval() the state's.
            network.RegisterLossState(state);
        }
        network.to(device);
        var optimizer = optim.Adam(network.parameters(), options.LearningRate);
        var batches = new Random(seed + 1);

        for (int step = 1; step <= options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var (x, labels, target, original) = Batch(batches, tasks.Train);
            Predictions p = network.Forward(x);

            // The generated losses move their results into this step's dispose scope.
            ILossResult result = method switch
            {
                Method.Equal => loss.EqualWeights(p.Logits, labels, p.Regression, target, p.Reconstruction, original),
                Method.Uncertainty => loss.UncertaintyWeighting(p.Logits, labels, p.Regression, target, p.Reconstruction, original),
                Method.Dwa => loss.DwaWeighting(p.Logits, labels, p.Regression, target, p.Reconstruction, original),
                Method.CoV => loss.CovWeighting(p.Logits, labels, p.Regression, target, p.Reconstruction, original),
                Method.Balance => loss.MagnitudeBalance(p.Logits, labels, p.Regression, target, p.Reconstruction, original),
                Method.GradNorm => loss.GradNormWeighting(p.Logits, labels, p.Regression, target, p.Reconstruction, original),
                _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown method"),
            };
            optimizer.zero_grad();
            result.Loss.backward();
            optimizer.step();
            state?.Advance(); // once per optimizer step

            bool logged = step == 1 || step % options.LogEvery == 0 || step == options.Steps;
            bool evaluated = step % options.EvalEvery == 0 || step == options.Steps;
            if (logged || evaluated)
            {
                var values = new Dictionary<string, double>();
                if (logged)
                {
                    IReadOnlyDictionary<string, double> metrics = result.Metrics();
                    foreach (string key in LossKeys)
                    {
                        values[key] = metrics[key];
                    }
                    if (metrics.TryGetValue(SkippedUpdates, out double skipped))
                    {
                        values[SkippedUpdates] = skipped;
                    }
                    for (int t = 0; t < Tasks.Length; t++)
                    {
                        values["weight/" + Tasks[t]] = WeightKey(method, Tasks[t]) is { } key ? metrics[key] : 1.0;
                    }
                }
                if (evaluated)
                {
                    TaskMetrics heldOut = Evaluate(method, seed, network, tasks.Test);
                    values[Accuracy] = heldOut.Accuracy;
                    values[RegressionRmse] = heldOut.RegressionRmse;
                    values[ReconstructionMse] = heldOut.ReconstructionMse;
                }
                log(new MetricRow(method, seed, step, values));
            }
            progress(step);
        }
        return Evaluate(method, seed, network, tasks.Test);
    }

    /// <summary>
    /// The metric key of the factor on a task's loss in a method's result; null where the factor is
    /// always 1 (every task of equal weights, the target of magnitude balancing).
    /// </summary>
    public static string? WeightKey(Method method, string task) => method switch
    {
        Method.Equal => null,
        Method.Uncertainty => $"loss/{task}_uncertainty_weight",
        Method.Dwa => $"loss/{task}_dwa_weight",
        Method.CoV => $"loss/{task}_cov_weight",
        Method.Balance => task == "classification" ? null : $"loss/{task}_scale",
        Method.GradNorm => $"loss/{task}_grad_norm_weight",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown method"),
    };

    /// <summary>
    /// Held-out accuracy, regression RMSE (in the target's units) and reconstruction MSE, with the
    /// network (and the loss state it registers) in evaluation mode, then back in training mode.
    /// </summary>
    private static TaskMetrics Evaluate(Method method, int seed, SharedTrunkNetwork network, SyntheticTasks.Split test)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        Predictions p = network.Forward(test.X);
        Tensor metrics = stack(new[]
        {
            p.Logits.argmax(1).eq(test.Labels).to(ScalarType.Float64).mean(),
            p.Regression.sub(test.Target).square().mean().sqrt().to(ScalarType.Float64),
            p.Reconstruction.sub(test.Original).square().mean().to(ScalarType.Float64),
        });
        double[] values = metrics.data<double>().ToArray(); // one host transfer
        network.train();
        return new TaskMetrics(method, seed, values[0], values[1], values[2]);
    }

    private (Tensor X, Tensor Labels, Tensor Target, Tensor Original) Batch(Random random, SyntheticTasks.Split train)
    {
        var indices = new long[options.BatchSize];
        for (int i = 0; i < indices.Length; i++)
        {
            indices[i] = random.Next(SyntheticTasks.TrainExamples);
        }
        using Tensor index = tensor(indices, device: device);
        return (train.X.index_select(0, index), train.Labels.index_select(0, index), train.Target.index_select(0, index), train.Original.index_select(0, index));
    }
}
