using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillation;

/// <summary>
/// A classification task made in-process from a seed, so the run needs no download: inputs are
/// Gaussian, and labels are sampled from the softmax of a fixed random two-layer network, so the
/// classes overlap and a trained teacher's soft predictions carry information that hard labels do not.
/// </summary>
public sealed class SyntheticTask : IClassificationTask
{
    public const int Inputs = 32;
    public const int Classes = 10;
    public const int TeacherExamples = 32768;
    public const int StudentExamples = 1024;
    public const int TestExamples = 2048;

    /// <summary>Scale of the labelling network's logits: higher makes labels less noisy.</summary>
    public const double Sharpness = 8.0;

    private SyntheticTask(Tensor trainX, Tensor trainY, Tensor testX, Tensor testY)
    {
        TrainX = trainX;
        TrainY = trainY;
        TestX = testX;
        TestY = testY;
    }

    /// <summary>The teacher's training set; the students see its first <see cref="StudentExamples"/>.</summary>
    public Tensor TrainX { get; }
    public Tensor TrainY { get; }
    public Tensor TestX { get; }
    public Tensor TestY { get; }

    public string Description => $"synthetic ({TeacherExamples} teacher examples, the students see the first {StudentExamples}, {TestExamples} held out)";
    int IClassificationTask.Inputs => Inputs;
    int IClassificationTask.Classes => Classes;
    int IClassificationTask.TeacherExamples => TeacherExamples;
    int IClassificationTask.StudentExamples => StudentExamples;

    public static SyntheticTask Create(int seed, Device device)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        Tensor w1 = randn(new long[] { Inputs, 64 }, generator: generator) / Math.Sqrt(Inputs);
        Tensor w2 = randn(new long[] { 64, Classes }, generator: generator) * Sharpness / Math.Sqrt(64);
        (Tensor X, Tensor Y) Sample(int count)
        {
            Tensor x = randn(new long[] { count, Inputs }, generator: generator);
            Tensor probabilities = softmax(tanh(x.matmul(w1)).matmul(w2), 1);
            Tensor y = multinomial(probabilities, 1, generator: generator).squeeze(1);
            return (x.to(device), y.to(device));
        }
        var (trainX, trainY) = Sample(TeacherExamples);
        var (testX, testY) = Sample(TestExamples);
        var task = new SyntheticTask(trainX, trainY, testX, testY);
        scope.MoveToOuter(trainX, trainY, testX);
        scope.MoveToOuter(testY);
        return task;
    }

    public void Dispose()
    {
        TrainX.Dispose();
        TrainY.Dispose();
        TestX.Dispose();
        TestY.Dispose();
    }
}
