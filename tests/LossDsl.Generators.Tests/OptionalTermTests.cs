using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// <c>If(switch, Term)</c> and term parameters with defaults: what compiles, what is generated, and
/// each mistake as one error located in the formula.
/// </summary>
public class OptionalTermTests
{
    private static string Loss(string formula, string parameters = "Tensor x, Tensor y, bool useExtra", string members = "") => $$"""
        namespace Sample;

        public partial class Optional
        {
            public bool UseFeature { get; set; } = true;
            public int Count { get; set; }
            public static bool Everywhere = true;
            {{members}}

            [Term] Tensor Hard(Tensor x) => x.mean();
            [Term] Tensor Soft(Tensor x) => x.abs().mean();
            [Term] Tensor Feature(Tensor y) => y.pow(2).mean();

            [Loss({{Sources.Literal(formula)}})]
            public partial OptionalResult Compute({{parameters}});
        }
        """;

    [Theory]
    [InlineData("Total = Hard + If(UseFeature, Feature)", "this.UseFeature ? ")]
    [InlineData("Total = Hard + If(useExtra, Feature)", "useExtra ? ")]
    [InlineData("Total = Hard + If(Everywhere, Feature)", "Everywhere ? ")]
    [InlineData("F = If(UseFeature, Feature)\nTotal = Hard + F + Balance(F, to: Hard)", "this.UseFeature ? ")]
    public void A_switched_term_is_called_only_under_its_switch(string formula, string condition)
    {
        GeneratorRun run = GeneratorHarness.Run(Loss(formula));
        Assert.Empty(run.Errors);
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        string line = Assert.Single(run.Source.Split('\n'), l => l.Contains("this.Feature(y)")).Trim();
        Assert.Equal($"var feature = {condition}global::LossDsl.LossRuntime.Term(this.Feature(y), \"Feature\", scope) : global::LossDsl.LossRuntime.Off(x);", line);
    }

    [Theory]
    [InlineData("Total = Hard + If(Count, Feature)", "Count", "its first argument must be the name of a bool parameter, field or property, but 'Count' is a number")]
    [InlineData("Total = Hard + If(x, Feature)", "x", "its first argument must be the name of a bool parameter, field or property, but 'x' is a tensor")]
    [InlineData("Total = Hard + If(Nope, Feature)", "Nope", "its first argument must be the name of a bool parameter, field or property, but 'Nope' is not a parameter or member of 'Optional'")]
    [InlineData("Total = Hard + If(1, Feature)", "1", "its first argument must be the name of a bool parameter, field or property, but this is '1'")]
    [InlineData("Total = Hard + If(UseFeature, Feature + Soft)", "Feature + Soft", "its second argument must be the name of a [Term] method, which is then called only when the switch is on, but this is 'Feature + Soft'; switch the terms of an expression one by one")]
    [InlineData("Total = Hard + If(Hard, Feature)", "Hard", "its first argument must be the name of a bool parameter, field or property, but 'Hard' is a value of the formula")]
    [InlineData("Total = Hard + If(UseFeature, x)", "x", "its second argument must be the name of a [Term] method, which is then called only when the switch is on, but this is 'x'; switch the terms of an expression one by one")]
    [InlineData("Total = Hard + If(UseFeature)", "If(UseFeature)", "it takes a bool switch and a [Term] method, but 1 was given; write If(UseFeature, Feature)")]
    [InlineData("Total = Feature + If(UseFeature, Feature)", "Feature", "the term 'Feature' is switched by If(UseFeature, …) and also used without a switch; bind it once, for example FeaturePart = If(UseFeature, Feature), and use that binding")]
    [InlineData("Total = If(useExtra, Feature) + If(UseFeature, Feature)", "Feature", "the term 'Feature' is switched by If(useExtra, …) and also used under If(UseFeature, …); bind it once, for example FeaturePart = If(useExtra, Feature), and use that binding")]
    public void Each_misuse_of_If_is_one_error_at_its_culprit(string formula, string underlined, string problem)
    {
        GeneratorRun run = GeneratorHarness.Run(Loss(formula));
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("LD0107", error.Id);
        Assert.Equal($"Invalid call to 'If': {problem}", error.GetMessage());
        Assert.Equal(underlined, run.Underlined(error));
        Assert.DoesNotContain(run.Errors, e => e.Id.StartsWith("CS"));
    }

    [Theory]
    [InlineData("Total = Soft + Balance(If(UseFeature, Feature), to: Soft, ema: 0.9)", "LD0108", "Balance", "If(UseFeature, Feature)", "Balance(…, ema:)")]
    [InlineData("F = If(UseFeature, Feature)\nTotal = Soft + Balance(Soft, to: F, ema: 0.9)", "LD0108", "Balance", "F", "Balance(…, ema:)")]
    [InlineData("Total = Dwa(Hard, If(useExtra, Feature))", "LD0110", "Dwa", "If(useExtra, Feature)", "Dwa")]
    [InlineData("Total = CoV(Hard, If(UseFeature, Feature))", "LD0110", "CoV", "If(UseFeature, Feature)", "CoV")]
    public void A_stateful_function_may_not_keep_statistics_of_a_switched_term(string formula, string id, string function, string underlined, string state)
    {
        // Regression: the moving average learned from the zero of the calls where the term was off
        // (5 calls on, 50 off, then on: scale 0.098 instead of 0.010).
        GeneratorRun run = GeneratorHarness.Run(Loss(formula));
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, error.Id);
        string switchName = underlined == "F" ? "UseFeature" : underlined.Substring(3, underlined.IndexOf(',') - 3);
        Assert.EndsWith($"'{underlined}' is switched by If({switchName}, …), and {state} keeps statistics of it: on the calls where it is off they would learn from its zero; " +
                        $"balance it without ema:, or switch the term where it is added to the loss, not inside {function}", error.GetMessage());
        Assert.Equal(underlined, run.Underlined(error));
    }

    [Fact]
    public void A_stateless_balance_and_an_ema_of_an_expression_around_a_switched_term_are_allowed()
    {
        GeneratorRun run = GeneratorHarness.Run(Loss("Kd = Soft + Balance(If(UseFeature, Feature), to: Soft)\nTotal = Hard + Balance(Kd, to: Hard, ema: 0.9)", parameters: "Tensor x, Tensor y"));
        Assert.Empty(run.Errors);
        Assert.Empty(run.GeneratorDiagnostics);
    }

    [Fact]
    public void The_conflicting_use_is_the_one_underlined()
    {
        // The first use is unconditional: the If after it is the culprit.
        GeneratorRun run = GeneratorHarness.Run(Loss("Total = Feature + If(UseFeature, Feature)"));
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        string text = run.TextOf(error).ToString();
        int formula = text.IndexOf("Total = ", System.StringComparison.Ordinal);
        Assert.Equal(formula + "Total = Feature + If(UseFeature, ".Length, error.Location.SourceSpan.Start);
    }

    [Fact]
    public void A_switch_needs_a_tensor_parameter_for_the_device_of_its_zero()
    {
        GeneratorRun run = GeneratorHarness.Run(Loss("Total = Hard + If(UseFeature, Feature)", parameters: "Tensor? x, Tensor? y"));
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "LD0107");
        Assert.Equal("Invalid call to 'If': a switched-off term is a zero created on the device of the [Loss] method's first Tensor parameter that cannot be null, and 'Compute' has none", error.GetMessage());
    }

    [Fact]
    public void A_switch_parameter_counts_as_used()
    {
        GeneratorRun run = GeneratorHarness.Run(Loss("Total = Hard + If(useExtra, Feature)"));
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "LD0204");
    }

    private static string TermWithDefault(string lossParameters) => $$"""
        namespace Sample;

        public partial class Defaults
        {
            [Term] Tensor Soft(Tensor x, double temperature = 2.0, string label = "soft") => x.mean() * temperature;

            [Loss("Total = Soft")]
            public partial Tensor Compute({{lossParameters}});
        }
        """;

    [Fact]
    public void A_term_parameter_with_a_default_that_the_loss_lacks_takes_its_default()
    {
        GeneratorRun run = GeneratorHarness.Run(TermWithDefault("Tensor x"));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.Errors);
        Assert.Contains("this.Soft(x: x)", run.Source);
    }

    [Fact]
    public void A_loss_parameter_of_the_same_name_and_type_is_passed_instead_of_the_default()
    {
        GeneratorRun run = GeneratorHarness.Run(TermWithDefault("Tensor x, double temperature"));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.Errors);
        Assert.Contains("this.Soft(x: x, temperature: temperature)", run.Source);
    }

    [Fact]
    public void A_loss_parameter_of_the_same_name_and_another_type_is_still_an_error()
    {
        GeneratorRun run = GeneratorHarness.Run(TermWithDefault("Tensor x, int temperature"));
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "LD0201");
        Assert.Contains("needs the parameter 'double temperature', which the [Loss] method 'Compute' does not have (its 'temperature' has type 'int')", error.GetMessage());
    }

    [Fact]
    public void A_parameter_without_a_default_is_still_required()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace Sample;

            public partial class Required
            {
                [Term] Tensor Soft(Tensor x, double temperature) => x.mean() * temperature;

                [Loss("Total = Soft")]
                public partial Tensor Compute(Tensor x);
            }
            """);
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "LD0201");
        Assert.Contains("needs the parameter 'double temperature'", error.GetMessage());
    }
}
