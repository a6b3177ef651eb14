using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Distillation.Objectives;
using LossDsl;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillation;

/// <summary>One logged step of one student: the loss's metrics (one host transfer) and the batch accuracy.</summary>
public sealed record MetricRow(string Student, int Step, IReadOnlyDictionary<string, double> Values);

/// <summary>Held-out accuracy and cross-entropy of a trained model.</summary>
public sealed record Evaluation(string Model, double Accuracy, double Loss);

/// <summary>Trains the teacher (or loads it from the cache) and the students.</summary>
public sealed class Training(RunOptions options, SyntheticTask task, Device device)
{
    public const int TeacherWidth = 128;
    public const int StudentWidth = 32;
    private const int TeacherBatch = 128;

    public static readonly string[] MetricKeys =
    {
        "distill/total_loss", "distill/hard_loss", "distill/soft_loss", "distill/out_proj_feature_loss",
        "distill/kd_loss", "distill/out_proj_feature_loss_scale", "distill/kd_loss_scale", "train/accuracy",
    };

    /// <summary>The teacher, trained now or loaded from the cache in the output folder when it was trained with the same settings.</summary>
    public Mlp Teacher(Action<int> progress, out bool fromCache)
    {
        string folder = Path.Combine(options.OutputFolder, "teacher");
        string weights = Path.Combine(folder, "teacher.bin"), keyFile = Path.Combine(folder, "teacher.key");
        string key = FormattableString.Invariant($"v1 seed={options.Seed} steps={options.TeacherSteps} batch={TeacherBatch} lr={options.LearningRate:R} width={TeacherWidth} depth={RunOptions.Depth}");

        manual_seed(options.Seed);
        var teacher = new Mlp("teacher", TeacherWidth, RunOptions.Depth);
        teacher.to(device);
        fromCache = !options.RetrainTeacher && File.Exists(weights) && File.Exists(keyFile) && File.ReadAllText(keyFile) == key;
        if (fromCache)
        {
            teacher.load(weights);
            teacher.eval();
            progress(options.TeacherSteps);
            return teacher;
        }

        var optimizer = optim.Adam(teacher.parameters(), options.LearningRate);
        var batches = new Random(options.Seed);
        for (int step = 1; step <= options.TeacherSteps; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batch(batches, TeacherBatch, SyntheticTask.TeacherExamples);
            Tensor loss = Losses.CrossEntropy(teacher.Forward(x).Logits, y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            progress(step);
        }
        teacher.eval();

        // Weights first, then the key: an interrupted save never looks like a valid cache.
        Directory.CreateDirectory(folder);
        File.Delete(keyFile);
        teacher.save(weights + ".tmp");
        File.Move(weights + ".tmp", weights, overwrite: true);
        File.WriteAllText(keyFile, key);
        return teacher;
    }

    /// <summary>Trains one student from the same initial weights and on the same batches as the others.</summary>
    public Evaluation Student(StudentMode mode, Mlp teacher, Action<MetricRow> log, Action<int> progress)
    {
        string name = mode.ToString().ToLowerInvariant();
        manual_seed(options.Seed + 1);
        var student = new Student("student", StudentWidth, RunOptions.Depth, TeacherWidth, options.Layers);
        student.to(device);
        var optimizer = optim.Adam(student.parameters(), options.LearningRate);
        var batches = new Random(options.Seed + 1);
        var fixedWeights = new FixedWeightsLoss { Alpha = options.Alpha, Temperature = options.Temperature, Beta = options.Beta };
        var dynamic = new DynamicBalancingLoss { Alpha = options.Alpha, Temperature = options.Temperature };

        for (int step = 1; step <= options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batch(batches, options.BatchSize, SyntheticTask.StudentExamples);
            Tensor teacherLogits, teacherFeatures;
            using (no_grad())
            {
                var (logits, hidden) = teacher.Forward(x);
                teacherLogits = logits;
                teacherFeatures = stack(options.Layers.Select(layer => hidden[layer]));
            }
            var (studentLogits, studentFeatures) = student.Forward(x);

            // The generated losses move their results into this step's dispose scope.
            ILossResult? result = mode switch
            {
                StudentMode.Fixed => fixedWeights.Compute(studentLogits, teacherLogits, y, studentFeatures, teacherFeatures),
                StudentMode.Dynamic when options.Strategy == "ema" => dynamic.ComputeEma(studentLogits, teacherLogits, y, studentFeatures, teacherFeatures),
                StudentMode.Dynamic => dynamic.Compute(studentLogits, teacherLogits, y, studentFeatures, teacherFeatures),
                _ => null,
            };
            Tensor loss = result?.Loss ?? Losses.CrossEntropy(studentLogits, y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            dynamic.ComputeEmaState.Advance(); // one optimizer step (the moving averages count their own updates)

            if (step == 1 || step % options.LogEvery == 0 || step == options.Steps)
            {
                var values = new Dictionary<string, double>(result?.Metrics() ?? HardOnlyMetrics(loss));
                values["train/accuracy"] = studentLogits.argmax(1).eq(y).to(ScalarType.Float64).mean().item<double>();
                log(new MetricRow(name, step, values));
            }
            progress(step);
        }
        student.eval();
        return Evaluate(name, student.Predict);
    }

    /// <summary>Accuracy and cross-entropy on the held-out set.</summary>
    public Evaluation Evaluate(string name, Func<Tensor, Tensor> predict)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor logits = predict(task.TestX);
        double accuracy = logits.argmax(1).eq(task.TestY).to(ScalarType.Float64).mean().item<double>();
        double loss = Losses.CrossEntropy(logits, task.TestY).to(ScalarType.Float64).item<double>();
        return new Evaluation(name, accuracy, loss);
    }

    private static Dictionary<string, double> HardOnlyMetrics(Tensor loss)
    {
        double value = loss.to(ScalarType.Float64).item<double>();
        return new Dictionary<string, double> { ["distill/total_loss"] = value, ["distill/hard_loss"] = value };
    }

    private (Tensor X, Tensor Y) Batch(Random random, int size, int population)
    {
        var indices = new long[size];
        for (int i = 0; i < size; i++)
        {
            indices[i] = random.Next(population);
        }
        using Tensor index = tensor(indices, device: device);
        return (task.TrainX.index_select(0, index), task.TrainY.index_select(0, index));
    }
}
