using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Mistakes in balancing by gradients (<c>by: Gradient(P)</c>, <c>Anneal</c>, <c>GradNorm</c>), each
/// exactly one error underlined at its culprit, with the compiler reporting nothing more; and the
/// shapes of P that are accepted, compiled without a warning.
/// </summary>
public class GradientSpecificationTests
{
    public static TheoryData<string, string, string, string> Mistakes => new()
    {
        // formula, diagnostic id, underlined text, a part of the message
        { "Total = Hard + Balance(Soft, to: Hard, by: Gradient(Alpha))", "LD0127", "Alpha", "the member 'Alpha' is a number" },
        { "Total = Hard + Balance(Soft, to: Hard, by: Gradient(weight))", "LD0127", "weight", "the parameter 'weight' has type 'double'" },
        { "Total = Hard + Balance(Soft, to: Hard, by: Gradient(Hard))", "LD0127", "Hard", "'Hard' is a [Term] method, a value, not parameters" },
        { "K = Soft * 2\nTotal = Hard + Balance(Soft, to: Hard, by: Gradient(K))", "LD0127", "K", "'K' is a binding of the formula, a value, not parameters" },
        { "Total = Hard + Balance(Soft, to: Hard, by: Gradient(Trunks))", "LD0127", "Trunks", "'Trunks' is not a parameter or member of 'Features'" },
        { "Total = Hard + Balance(Soft, to: Hard, by: Trunk)", "LD0127", "Trunk", "it takes Gradient(P)" },
        { "Total = Hard + Balance(Soft, to: Hard, by: Gradient(Trunk, Prior))", "LD0127", "Gradient(Trunk, Prior)", "Gradient(P) takes one name" },
        { "Total = Hard + Balance(Soft, to: Hard, by: Gradient(Trunk * 2))", "LD0127", "Trunk * 2", "is not a name" },
        { "Total = Hard + Gradient(Trunk)", "LD0127", "Gradient(Trunk)", "Gradient(P) is not a value" },
        { "Total = GradNorm(Hard, Soft, shared: Gradient(Trunk))", "LD0127", "Gradient(Trunk)", "it takes the name P" },
        { "Total = GradNorm(Hard, Soft)", "LD0110", "GradNorm(Hard, Soft)", "it needs the option 'shared:'" },
        { "Total = Hard + Anneal(Soft, to: Hard)", "LD0107", "Anneal(Soft, to: Hard)", "it needs the option 'by:'" },
        { "Total = Hard + Anneal(Soft, to: Hard, by: Gradient(Trunk), alpha: 0)", "LD0107", "0", "its option 'alpha' must be greater than 0 and at most 1" },
        { "Total = Hard + Anneal(Soft, to: Soft, by: Gradient(Trunk))", "LD0107", "Anneal(Soft, to: Soft, by: Gradient(Trunk))", "'Soft' is balanced to itself" },
        { "Total = Hard + Balance(Soft, to: Hard, eps: 1e-6, stabilizer: 1e-4)", "LD0108", "eps", "its eps: and stabilizer: are two ways to keep the ratio finite" },
        { "Total = Hard + Balance(Soft, to: Hard, by: Gradient(Trunk), stabiliser: 1e-4)", "LD0108", "stabiliser", "did you mean 'stabilizer'?" },
        { "Total = Hard + Balance(Soft, to: Hard, by: Gradient(Trunk), stabilizer: 0)", "LD0108", "0", "its option 'stabilizer' must be greater than 0" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void AMistakeIsOneErrorAtItsCulprit(string formula, string id, string underlined, string message)
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.Features(formula));
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, error.Id);
        Assert.Equal(underlined, run.Underlined(error));
        Assert.Contains(message, error.GetMessage());
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning && !d.Id.StartsWith("LD"));
    }

    private const string Declarations = """
            public bool UseSoft { get; set; }
            public nn.Module Trunk { get; } = nn.Linear(2, 2);
            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
            [Term] Tensor[] Layers(Tensor x) => new[] { x.mean(), x.sum() };
        """;

    public static TheoryData<string, string, string, string> DeclarationMistakes => new()
    {
        // A switched-off term is a zero without gradient: the run-time error would come only on such a call.
        { $"public partial class C\n{{\n{Declarations}\n    [Loss(\"Total = Hard + Balance(If(UseSoft, Soft), to: Hard, by: Gradient(Trunk))\")]\n    public partial Tensor Compute(Tensor x);\n}}",
          "LD0108", "If(UseSoft, Soft)", "Balance takes its gradient: on the calls where it is off its zero has none" },
        { $"public partial class C\n{{\n{Declarations}\n    [Loss(\"S = If(UseSoft, Soft)\\nTotal = GradNorm(Hard, S, shared: Trunk)\")]\n    public partial Tensor Compute(Tensor x);\n}}",
          "LD0110", "S", "GradNorm takes its gradient" },
        { $"public partial class C\n{{\n{Declarations}\n    [Loss(\"Total = Hard + Sum(Balance(Layers, to: Hard, by: Gradient(Trunk)))\")]\n    public partial Tensor Compute(Tensor x);\n}}",
          "LD0108", "by", "its by: Gradient(…) is not supported for a list" },
        // A detached operand carries no gradient on any call: the run-time error would come on every call.
        { $"public partial class C\n{{\n{Declarations}\n    [Loss(\"Total = Hard + Balance(Detach(Soft), to: Hard, by: Gradient(Trunk))\")]\n    public partial Tensor Compute(Tensor x);\n}}",
          "LD0108", "Detach(Soft)", "'Detach(Soft)' is detached, and Balance takes its gradient: it has none" },
        { $"public partial class C\n{{\n{Declarations}\n    [Loss(\"D = Detach(Hard)\\nTotal = Soft + Anneal(Soft, to: D, by: Gradient(Trunk))\")]\n    public partial Tensor Compute(Tensor x);\n}}",
          "LD0107", "D", "'D' is detached, and Anneal takes its gradient: it has none" },
        { $"public partial class C\n{{\n{Declarations}\n    [Loss(\"Total = GradNorm(Hard, Detach(Soft), shared: Trunk)\")]\n    public partial Tensor Compute(Tensor x);\n}}",
          "LD0110", "Detach(Soft)", "'Detach(Soft)' is detached, and GradNorm takes its gradient: it has none" },
        // A static [Loss] method cannot read an instance member.
        { "public partial class C\n{\n    public nn.Module Trunk { get; } = nn.Linear(2, 2);\n    [Term] static Tensor Hard(Tensor x) => x.mean();\n    [Term] static Tensor Soft(Tensor x) => x.abs().mean();\n    [Loss(\"Total = Hard + Balance(Soft, to: Hard, by: Gradient(Trunk))\")]\n    public static partial Tensor Compute(Tensor x);\n}",
          "LD0005", "Trunk", "cannot use the instance member 'Trunk'" },
        // Anneal and GradNorm keep state, which a static [Loss] method has nowhere to keep.
        { "public partial class C\n{\n    public static nn.Module Trunk { get; } = nn.Linear(2, 2);\n    [Term] static Tensor Hard(Tensor x) => x.mean();\n    [Term] static Tensor Soft(Tensor x) => x.abs().mean();\n    [Loss(\"Total = Hard + Anneal(Soft, to: Hard, by: Gradient(Trunk))\")]\n    public static partial Tensor Compute(Tensor x);\n}",
          "LD0112", "Anneal", "keeps state" },
    };

    [Theory]
    [MemberData(nameof(DeclarationMistakes))]
    public void ADeclarationMistakeIsOneErrorAtItsCulprit(string source, string id, string underlined, string message)
    {
        GeneratorRun run = GeneratorHarness.Run("namespace N;\n" + source);
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, error.Id);
        Assert.Equal(underlined, run.Underlined(error));
        Assert.Contains(message, error.GetMessage());
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning && !d.Id.StartsWith("LD"));
    }

    /// <summary>A [Loss] parameter used only as the parameters of Gradient(P) is used (no LD0204), and a parameter of type IEnumerable&lt;Parameter&gt; is accepted.</summary>
    [Fact]
    public void AParameterNamedInGradientIsUsed()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace N;
            public partial class C
            {
                [Term] Tensor Hard(Tensor x) => x.mean();
                [Term] Tensor Soft(Tensor x) => x.abs().mean();
                [Loss("Total = Hard + Balance(Soft, to: Hard, by: Gradient(shared))")]
                public partial CResult Compute(Tensor x, System.Collections.Generic.IEnumerable<TorchSharp.Modules.Parameter> shared);
            }
            """);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning);
        Assert.Contains("global::LossDsl.Gradients.FromTensors(shared, \"shared\")", run.Source);
    }
}
