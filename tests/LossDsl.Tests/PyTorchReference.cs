using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// The fixtures that <c>tests/reference/make_fixtures.py</c> wrote with PyTorch 1.13 into
/// <c>Reference/*.json</c>: inputs, the loss and the input gradients of each case, in float64 and
/// float32. Read with System.Text.Json; no Python is needed to run the tests.
/// </summary>
internal static class PyTorchReference
{
    /// <summary>Values and gradients are compared to within this relative error in float64.</summary>
    public const double Float64Tolerance = 1e-6;

    /// <summary>The same in float32.</summary>
    public const double Float32Tolerance = 1e-5;

    /// <summary>One recorded case.</summary>
    /// <param name="Id">The dtype and the case's name, unique within a file.</param>
    /// <param name="Params">The scalar arguments (for example <c>labelSmoothing</c>).</param>
    /// <param name="Inputs">Each input tensor as recorded.</param>
    /// <param name="Output">PyTorch's loss, or null where PyTorch gave NaN.</param>
    /// <param name="Gradients">PyTorch's gradient for each differentiated input.</param>
    public sealed record Case(
        string Id, bool IsFloat64, JsonElement Params, IReadOnlyDictionary<string, JsonElement> Inputs, double? Output,
        IReadOnlyDictionary<string, JsonElement> Gradients)
    {
        /// <summary>The relative tolerance for this case's dtype.</summary>
        public double Tolerance => IsFloat64 ? Float64Tolerance : Float32Tolerance;

        /// <summary>A scalar parameter, or <paramref name="fallback"/> when the case does not set it.</summary>
        public double Param(string name, double fallback) =>
            Params.TryGetProperty(name, out var value) ? value.GetDouble() : fallback;

        /// <summary>Whether the case has the named input.</summary>
        public bool Has(string name) => Inputs.ContainsKey(name);

        /// <summary>The named input as a new tensor of its recorded dtype; <paramref name="requiresGrad"/> makes it a leaf.</summary>
        public Tensor Input(string name, bool requiresGrad = false)
        {
            var tensor = ToTensor(Inputs[name]);
            return requiresGrad ? tensor.requires_grad_(true) : tensor;
        }

        /// <summary>The named input, or null when the case does not have it.</summary>
        public Tensor? Optional(string name) => Has(name) ? Input(name) : null;
    }

    /// <summary>The cases of <c>Reference/<paramref name="file"/>.json</c>.</summary>
    public static IReadOnlyList<Case> Load(string file) => Cache.GetOrAdd(file, Read);

    /// <summary>The ids of a file's cases, as xUnit member data.</summary>
    public static TheoryData<string> Ids(string file)
    {
        var data = new TheoryData<string>();
        foreach (var c in Load(file))
        {
            data.Add(c.Id);
        }
        return data;
    }

    /// <summary>The case of a file with the given id.</summary>
    public static Case Get(string file, string id) => Load(file).Single(c => c.Id == id);

    /// <summary>
    /// Checks <paramref name="loss"/> and the gradients of <paramref name="leaves"/> against the
    /// case. Where PyTorch gave NaN (nothing left to average), LossDsl's documented result is
    /// zero with zero gradients. Gradients are compared element by element to within the tolerance
    /// times the largest reference magnitude, so that near-zero entries do not need a relative match.
    /// </summary>
    public static void AssertMatches(Case c, Tensor loss, IReadOnlyDictionary<string, Tensor> leaves)
    {
        Assert.Equal(0, loss.Dimensions);
        Assert.Equal(c.IsFloat64 ? ScalarType.Float64 : ScalarType.Float32, loss.dtype);
        var gradients = torch.autograd.grad(new[] { loss }, leaves.Values.ToArray(), allow_unused: true);
        double value = loss.to(ScalarType.Float64).item<double>();
        if (c.Output is null)
        {
            Assert.Equal(0.0, value);
            foreach (var gradient in gradients)
            {
                Assert.True(gradient is null || gradient.abs().max().to(ScalarType.Float64).item<double>() == 0, $"{c.Id}: the gradient of an empty mean is not zero");
            }
            return;
        }
        RelativeTolerance.AssertClose(c.Output.Value, value, c.Tolerance, c.Id);
        Assert.Equal(c.Gradients.Keys.OrderBy(k => k), leaves.Keys.OrderBy(k => k));
        int i = 0;
        foreach (var (name, _) in leaves)
        {
            var expected = c.Gradients[name];
            var actual = gradients[i++];
            Assert.Equal(Shape(expected), actual.shape);
            double[] want = Values(expected);
            double[] got = actual.to(ScalarType.Float64).cpu().data<double>().ToArray();
            double scale = want.Max(Math.Abs);
            for (int k = 0; k < want.Length; k++)
            {
                double error = Math.Abs(got[k] - want[k]);
                Assert.True(
                    error <= c.Tolerance * scale,
                    $"{c.Id}: d/d{name}[{k}] expected {want[k]:R}, got {got[k]:R}; error {error:E2} > {c.Tolerance:E0} × {scale:E2}");
            }
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<Case>> Cache = new();

    private static IReadOnlyList<Case> Read(string file)
    {
        string path = Path.Combine(Folder(), "Reference", file + ".json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var cases = new List<Case>();
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            string dtype = c.GetProperty("dtype").GetString()!;
            var output = c.GetProperty("output");
            cases.Add(new Case(
                $"{dtype} {c.GetProperty("name").GetString()}",
                dtype == "float64",
                c.GetProperty("params").Clone(),
                c.GetProperty("tensors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
                output.ValueKind == JsonValueKind.Null ? null : output.GetDouble(),
                c.GetProperty("grads").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone())));
        }
        Assert.NotEmpty(cases);
        return cases;
    }

    private static string Folder([CallerFilePath] string source = "") => Path.GetDirectoryName(source)!;

    private static long[] Shape(JsonElement tensor) =>
        tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();

    private static double[] Values(JsonElement tensor) =>
        tensor.GetProperty("data").EnumerateArray()
            .Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToArray();

    private static Tensor ToTensor(JsonElement tensor)
    {
        long[] shape = Shape(tensor);
        var data = tensor.GetProperty("data");
        switch (tensor.GetProperty("dtype").GetString())
        {
            case "bool":
                return torch.tensor(data.EnumerateArray().Select(v => v.GetBoolean()).ToArray(), shape);
            case "int64":
                return torch.tensor(data.EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape);
            case "float64":
                return torch.tensor(Values(tensor), shape);
            case "float32":
                return torch.tensor(Values(tensor).Select(v => (float)v).ToArray(), shape);
            case var other:
                throw new InvalidDataException($"fixture tensor dtype '{other}' is not one the tests read");
        }
    }
}
