using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Distillation;

/// <summary>A multilayer perceptron that also returns every hidden layer's activations, for feature matching.</summary>
public sealed class Mlp : Module
{
    private readonly ModuleList<Linear> layers;
    private readonly Linear head;

    public Mlp(string name, int inputs, int classes, int width, int depth) : base(name)
    {
        layers = new ModuleList<Linear>(Enumerable.Range(0, depth)
            .Select(i => Linear(i == 0 ? inputs : width, width)).ToArray());
        head = Linear(width, classes);
        Width = width;
        RegisterComponents();
    }

    public int Width { get; }

    public (Tensor Logits, Tensor[] Hidden) Forward(Tensor x)
    {
        var hidden = new Tensor[layers.Count];
        Tensor h = x;
        for (int i = 0; i < layers.Count; i++)
        {
            h = functional.gelu(layers[i].forward(h));
            hidden[i] = h;
        }
        return (head.forward(h), hidden);
    }
}

/// <summary>
/// A student: a narrower <see cref="Mlp"/>, plus a learned projection per matched layer from its
/// width to the teacher's (MaxText-style: the same layer indices for student and teacher).
/// </summary>
public sealed class Student : Module
{
    private readonly Mlp network;
    private readonly ModuleList<Linear> projections;
    private readonly int[] matchedLayers;

    public Student(string name, int inputs, int classes, int width, int depth, int teacherWidth, IReadOnlyList<int> matchedLayers) : base(name)
    {
        network = new Mlp("network", inputs, classes, width, depth);
        projections = new ModuleList<Linear>(matchedLayers.Select(_ => Linear(width, teacherWidth, hasBias: false)).ToArray());
        this.matchedLayers = matchedLayers.ToArray();
        RegisterComponents();
    }

    /// <summary>The logits, and the projected features of the matched layers stacked as [layers, batch, teacher width].</summary>
    public (Tensor Logits, Tensor Features) Forward(Tensor x)
    {
        var (logits, hidden) = network.Forward(x);
        var projected = matchedLayers.Select((layer, i) => projections[i].forward(hidden[layer])).ToArray();
        return (logits, stack(projected));
    }

    public Tensor Predict(Tensor x) => network.Forward(x).Logits;
}
