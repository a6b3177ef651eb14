using Consumer;
using TorchSharp;
using static TorchSharp.torch;

// A few training steps of a small student against a fixed random teacher.
manual_seed(0);
var student = nn.Linear(16, 8);
var projection = nn.Linear(8, 4);   // student features to the teacher's feature width
var optimizer = optim.Adam(student.parameters().Concat(projection.parameters()), 0.01);
var loss = new DistillationLoss { Alpha = 0.5, Temperature = 2.0 };

for (int step = 1; step <= 3; step++)
{
    using var scope = NewDisposeScope();
    var inputs = randn(32, 16);
    var labels = randint(8, new long[] { 32 });
    var tLogits = randn(32, 8);
    var tFeat = randn(32, 4);
    var sLogits = student.forward(inputs);
    var sFeat = projection.forward(sLogits);

    using var result = loss.Compute(sLogits, tLogits, labels, sFeat, tFeat);
    optimizer.zero_grad();
    result.Total.backward();
    optimizer.step();

    foreach (var (key, value) in result.Metrics())   // one host transfer for all metrics
        Console.WriteLine($"step {step} {key} {value:F4}");
}

Console.WriteLine(DistillationLoss.ComputeExplanation);
