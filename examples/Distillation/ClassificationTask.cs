using System;
using static TorchSharp.torch;

namespace Distillation;

/// <summary>
/// The data a run trains on: the teacher's training set, whose first <see cref="StudentExamples"/>
/// the students see, and a held-out set.
/// </summary>
public interface IClassificationTask : IDisposable
{
    /// <summary>One line naming the data, for the console and summary.md.</summary>
    string Description { get; }

    /// <summary>Features per example (the models' input width).</summary>
    int Inputs { get; }

    int Classes { get; }

    /// <summary>Examples the teacher trains on (all of <see cref="TrainX"/>).</summary>
    int TeacherExamples { get; }

    /// <summary>Examples the students train on: the first ones of <see cref="TrainX"/>.</summary>
    int StudentExamples { get; }

    Tensor TrainX { get; }
    Tensor TrainY { get; }
    Tensor TestX { get; }
    Tensor TestY { get; }
}
