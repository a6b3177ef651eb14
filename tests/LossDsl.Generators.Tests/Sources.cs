namespace LossDsl.Generators.Tests;

/// <summary>Declarations the tests feed to the generator.</summary>
public static class Sources
{
    /// <summary>
    /// The README's distillation loss (MaxText PR 4220): tests/Shared/DistillationLoss.cs, the file
    /// the runtime tests compile, embedded in this assembly. It is declared in namespace Sample like
    /// every source here (the DesignExample snapshot names Sample.DistillationLoss), without the
    /// using directives that <see cref="GeneratorHarness.Run(string[])"/> prepends.
    /// </summary>
    public static string Distillation { get; } = LossDsl.Testing.DistillationLossSource.InNamespace("Sample", withUsings: false);

    /// <summary>A class with three scalar terms and a formula slot: <c>{0}</c> is replaced by the attribute argument.</summary>
    public static string ThreeTerms(string formulaArgument, string returnType = "Tensor") => $$"""
        namespace Sample;

        public partial class ThreeTerms
        {
            public double Alpha { get; set; } = 0.5;
            public int Steps { get; set; } = 10;

            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
            [Term] Tensor Feature(Tensor y) => y.pow(2).mean();

            [Loss({{formulaArgument}})]
            public partial {{returnType}} Compute(Tensor x, Tensor y, double weight);
        }
        """;

    /// <summary>
    /// A class offering every kind of value a formula can name: three terms, numeric members of
    /// each type, a static member, a Tensor member, and Tensor and numeric parameters.
    /// </summary>
    public static string Features(string formula, string returnType = "FeaturesResult", string options = "") => $$"""
        namespace Sample;

        public partial class Features
        {
            public double Alpha { get; set; } = 0.5;
            public float Gamma = 2f;
            public int Steps { get; set; } = 10;
            public long Tokens { get; set; } = 1000;
            public const double Margin = 0.1;
            public static double Shared { get; set; } = 3;
            public Tensor Prior { get; set; } = torch.tensor(1.0);

            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
            [Term] static Tensor Feature(Tensor y) => y.pow(2).mean();

            [Loss({{Literal(formula)}}{{options}})]
            public partial {{returnType}} Compute(Tensor x, Tensor y, Tensor given, double weight);

            public nn.Module Trunk { get; } = nn.Linear(2, 2);
            public System.Collections.Generic.IEnumerable<TorchSharp.Modules.Parameter> Heads => Trunk.parameters();
        }
        """;

    /// <summary>A C# raw string literal holding <paramref name="text"/>.</summary>
    public static string Literal(string text) => text.Contains('\n') ? $"\"\"\"\n{text}\n\"\"\"" : $"\"\"\"{text}\"\"\"";
}
