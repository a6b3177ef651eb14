using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Distillation.Objectives;
using LossDsl;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillation;

/// <summary>
/// One logged step of one student on one seed: the loss's metrics (one host transfer), the batch
/// accuracy, the effective weight of each term and, at evaluation steps, held-out accuracy and loss.
/// </summary>
public sealed record MetricRow(string Student, int Seed, int Step, IReadOnlyDictionary<string, double> Values);

/// <summary>Held-out accuracy and cross-entropy of a trained model on one seed.</summary>
public sealed record Evaluation(string Model, int Seed, double Accuracy, double Loss);

/// <summary>
/// A student to train: its objective and weights. A sweep trains the fixed student once per
/// swept value (<see cref="SweepValue"/>), the others at the run's options.
/// </summary>
public sealed record StudentSpec(string Name, StudentMode Mode, double Alpha, double Beta, double FeatureScale, double? SweepValue = null)
{
    /// <summary>The students a run trains: the three (or the one of <c>--mode</c>), or for a sweep the fixed student at each value.</summary>
    public static IReadOnlyList<StudentSpec> For(RunOptions options)
    {
        StudentSpec At(StudentMode mode, string name, double? sweepValue = null) => new(
            name, mode,
            sweepValue is { } a && options.Sweep!.Parameter == "alpha" ? a : options.Alpha,
            sweepValue is { } b && options.Sweep!.Parameter == "beta" ? b : options.Beta,
            sweepValue is { } f && options.Sweep!.Parameter == "feature-scale" ? f : options.FeatureScale,
            sweepValue);
        string Name(StudentMode mode) => mode.ToString().ToLowerInvariant();

        if (options.Sweep is not { } sweep)
        {
            StudentMode[] modes = options.Mode == StudentMode.All
                ? new[] { StudentMode.Hard, StudentMode.Fixed, StudentMode.Dynamic }
                : new[] { options.Mode };
            return modes.Select(m => At(m, Name(m))).ToArray();
        }
        string Label(double value) => FormattableString.Invariant($"{sweep.Parameter}={value}");
        var specs = new List<StudentSpec> { At(StudentMode.Hard, "hard") };
        specs.AddRange(sweep.Values.Select(v => At(StudentMode.Fixed, $"fixed {Label(v)}", v)));
        // The feature loss's magnitude is part of the problem, not a weight: the dynamic student
        // meets every swept magnitude too (at its default weights); alpha and beta are weights
        // that it is meant not to need tuned, so it runs once, at the defaults.
        if (sweep.Parameter == "feature-scale")
        {
            specs.AddRange(sweep.Values.Select(v => At(StudentMode.Dynamic, $"dynamic {Label(v)}", v)));
        }
        else
        {
            specs.Add(At(StudentMode.Dynamic, "dynamic"));
        }
        return specs;
    }
}

/// <summary>Trains the teacher (or loads it from the cache) and the students, on one seed.</summary>
public sealed class Training(RunOptions options, IClassificationTask task, Device device, int seed)
{
    public const int TeacherWidth = 128;
    public const int StudentWidth = 32;
    private const int TeacherBatch = 128;

    public static readonly string[] MetricKeys =
    {
        "eval/accuracy", "eval/loss",
        "weight/hard", "weight/soft", "weight/feature",
        "distill/total_loss", "distill/hard_loss", "distill/soft_loss", "distill/out_proj_feature_loss",
        "distill/kd_loss", "distill/out_proj_feature_loss_scale", "distill/kd_loss_scale", "train/accuracy",
    };

    /// <summary>Where the teacher of <paramref name="seed"/> is cached.</summary>
    public static string TeacherFolder(RunOptions options, int seed) => Path.Combine(options.OutputFolder, "teacher", $"seed-{seed}");

    /// <summary>The teacher, trained now or loaded from the cache in the output folder when it was trained with the same settings.</summary>
    public Mlp Teacher(Action<int> progress, out bool fromCache)
    {
        string folder = TeacherFolder(options, seed);
        string weights = Path.Combine(folder, "teacher.bin"), keyFile = Path.Combine(folder, "teacher.key");
        string key = FormattableString.Invariant($"v2 data={task.Description} seed={seed} steps={options.TeacherSteps} batch={TeacherBatch} lr={options.LearningRate:R} width={TeacherWidth} depth={RunOptions.Depth}");

        manual_seed(seed);
        var teacher = new Mlp("teacher", task.Inputs, task.Classes, TeacherWidth, RunOptions.Depth);
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
        var batches = new Random(seed);
        for (int step = 1; step <= options.TeacherSteps; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batch(batches, TeacherBatch, task.TeacherExamples);
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

    /// <summary>
    /// Trains one student from the same initial weights and on the same batches as the others,
    /// evaluating it on the held-out set every <c>--eval-every</c> steps (and at the first and last).
    /// </summary>
    public Evaluation Student(StudentSpec spec, Mlp teacher, Action<MetricRow> log, Action<int> progress)
    {
        manual_seed(seed + 1);
        var student = new Student("student", task.Inputs, task.Classes, StudentWidth, RunOptions.Depth, TeacherWidth, options.Layers);
        student.to(device);
        var optimizer = optim.Adam(student.parameters(), options.LearningRate);
        var batches = new Random(seed + 1);
        var fixedWeights = new FixedWeightsLoss { Alpha = spec.Alpha, Temperature = options.Temperature, Beta = spec.Beta, FeatureScale = spec.FeatureScale };
        var dynamic = new DynamicBalancingLoss { Alpha = spec.Alpha, Temperature = options.Temperature, FeatureScale = spec.FeatureScale };

        for (int step = 1; step <= options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batch(batches, options.BatchSize, task.StudentExamples);
            Tensor teacherLogits, teacherFeatures;
            using (no_grad())
            {
                var (logits, hidden) = teacher.Forward(x);
                teacherLogits = logits;
                teacherFeatures = stack(options.Layers.Select(layer => hidden[layer]));
            }
            var (studentLogits, studentFeatures) = student.Forward(x);

            // The generated losses move their results into this step's dispose scope.
            ILossResult? result = spec.Mode switch
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

            bool evaluate = step == 1 || step % options.EvalEvery == 0 || step == options.Steps;
            if (evaluate || step % options.LogEvery == 0)
            {
                var values = new Dictionary<string, double>(result?.Metrics() ?? HardOnlyMetrics(loss));
                values["train/accuracy"] = studentLogits.argmax(1).eq(y).to(ScalarType.Float64).mean().item<double>();
                AddWeights(spec, values);
                if (evaluate)
                {
                    student.eval();
                    var (accuracy, heldOutLoss) = HeldOut(student.Predict);
                    student.train();
                    values["eval/accuracy"] = accuracy;
                    values["eval/loss"] = heldOutLoss;
                }
                log(new MetricRow(spec.Name, seed, step, values));
            }
            progress(step);
        }
        student.eval();
        return Evaluate(spec.Name, student.Predict);
    }

    /// <summary>
    /// The weight each term enters the total with: fixed, the constants (1 - alpha, alpha, beta);
    /// dynamic, 1 on the hard loss, alpha·kd_scale on the soft loss and alpha·kd_scale·feature_scale
    /// on the feature loss (the scales are this step's, carrying no gradient).
    /// </summary>
    private static void AddWeights(StudentSpec spec, Dictionary<string, double> values)
    {
        switch (spec.Mode)
        {
            case StudentMode.Hard:
                values["weight/hard"] = 1;
                break;
            case StudentMode.Fixed:
                values["weight/hard"] = 1 - spec.Alpha;
                values["weight/soft"] = spec.Alpha;
                values["weight/feature"] = spec.Beta;
                break;
            case StudentMode.Dynamic:
                double kd = spec.Alpha * values["distill/kd_loss_scale"];
                values["weight/hard"] = 1;
                values["weight/soft"] = kd;
                values["weight/feature"] = kd * values["distill/out_proj_feature_loss_scale"];
                break;
            case StudentMode.All:
                throw new ArgumentException("a student trains with one objective, not 'all'", nameof(spec));
        }
    }

    /// <summary>Accuracy and cross-entropy on the held-out set.</summary>
    public Evaluation Evaluate(string name, Func<Tensor, Tensor> predict)
    {
        var (accuracy, loss) = HeldOut(predict);
        return new Evaluation(name, seed, accuracy, loss);
    }

    private (double Accuracy, double Loss) HeldOut(Func<Tensor, Tensor> predict)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor logits = predict(task.TestX);
        double accuracy = logits.argmax(1).eq(task.TestY).to(ScalarType.Float64).mean().item<double>();
        double loss = Losses.CrossEntropy(logits, task.TestY).to(ScalarType.Float64).item<double>();
        return (accuracy, loss);
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
