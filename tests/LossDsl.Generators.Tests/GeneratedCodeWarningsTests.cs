using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using LossDsl.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// A consumer's strictest build: every warning an error, nullable enabled, documentation comments
/// checked (<see cref="DocumentationMode.Diagnose"/>, so cref and XML warnings show), every warning
/// wave on, at any language version from C# 9 to Preview.
/// </summary>
public static class StrictBuild
{
    /// <summary>C# 9 (the first with the partial methods LossDsl implements) to Preview, each one.</summary>
    public static IReadOnlyList<LanguageVersion> LanguageVersions { get; } = Enum.GetValues<LanguageVersion>()
        .Where(v => v >= LanguageVersion.CSharp9 && (v < LanguageVersion.LatestMajor || v == LanguageVersion.Preview))
        .Distinct()
        .OrderBy(v => v)
        .ToArray();

    public static CSharpParseOptions ParseOptions(LanguageVersion version) => new(version, DocumentationMode.Diagnose);

    /// <summary>
    /// What <c>WarningLevel 9999</c>, <c>Nullable</c> and, with <paramref name="warningsAsErrors"/>,
    /// <c>TreatWarningsAsErrors</c> give.
    /// </summary>
    public static CSharpCompilation Compilation(LanguageVersion version, NullableContextOptions nullable, bool warningsAsErrors, params string[] sources)
        => CSharpCompilation.Create(
            "Consumer",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions(version), path: $"Source{i}.cs")),
            LossDsl.Testing.LossDslReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: nullable, warningLevel: 9999,
                    generalDiagnosticOption: warningsAsErrors ? ReportDiagnostic.Error : ReportDiagnostic.Default)
                // As the SDK does (NoWarn 1701;1702): TorchSharp references older framework assembly versions.
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress }));

    /// <summary>Runs the generator over <paramref name="input"/> with the input's own parse options.</summary>
    public static (Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics, Exception? Thrown) Run(CSharpCompilation input)
    {
        var options = (CSharpParseOptions)input.SyntaxTrees[0].Options;
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new LossGenerator().AsSourceGenerator() }, parseOptions: options)
            .RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (output, diagnostics, driver.GetRunResult().Results.Single().Exception);
    }

    /// <summary>The compiler's warnings and errors located in generated files (with warnings as errors, warnings come as errors).</summary>
    public static IReadOnlyList<Diagnostic> InGeneratedCode(Compilation output)
        => output.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".LossDsl.g.cs", StringComparison.Ordinal) == true)
            .ToList();

    /// <summary>A readable account of what went wrong: the diagnostics, then every generated file.</summary>
    public static string Describe(IEnumerable<Diagnostic> diagnostics, Compilation output)
        => string.Join("\n", diagnostics) + "\n--- generated ---\n"
           + string.Join("\n", output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".LossDsl.g.cs", StringComparison.Ordinal)).Select(t => $"// {t.FilePath}\n{t}"));
}

/// <summary>
/// The generated code compiles in a consumer's strictest build (<see cref="StrictBuild"/>) at every
/// language version: no warning located in a generated file, and no error anywhere, for
/// representative formulas and declarations, correct or not.
/// </summary>
public class GeneratedCodeWarningsTests
{
    private const string Header = """
        using LossDsl;
        using TorchSharp;
        using static TorchSharp.torch;

        """;

    /// <summary>A documented public partial class <paramref name="name"/> in namespace Cases, with <paramref name="body"/>.</summary>
    private static string Loss(string name, string body, string before = "", string keyword = "class") => Header + before + $$"""
        namespace Cases
        {
            /// <summary>A loss.</summary>
            public partial {{keyword}} {{name}}
            {
        {{body}}
            }
        }
        """;

    private const string Terms = """
                [Term] Tensor Hard(Tensor x) => x.mean();
                [Term] Tensor Soft(Tensor x) => x.abs().mean();
                [Term] static Tensor Feature(Tensor y) => y.pow(2).mean();

        """;

    private const string Alpha = """
                /// <summary>A weight.</summary>
                public double Alpha { get; set; } = 0.5;

        """;

    public static IReadOnlyDictionary<string, string[]> Cases { get; } = new Dictionary<string, string[]>
    {
        ["Stateless"] = new[]
        {
            Loss("Stateless", Alpha + Terms + """
                    /// <summary>A tensor member.</summary>
                    public Tensor Prior { get; set; } = torch.tensor(1.0);

                    /// <summary>The loss.</summary>
                    [Loss("Kd = Soft + Balance(Feature, to: Soft, min: 0.1, max: 10)\nW = Alpha * 2\nTotal = Hard + W * Balance(Kd, to: Hard) - Detach(Soft) / 2 + given * weight + Prior",
                          MetricsPrefix = "p/", CheckFinite = true)]
                    public partial StatelessResult Compute(Tensor x, Tensor y, Tensor given, double weight);

                    /// <summary>The loss only.</summary>
                    [Loss("Total = 1 - Hard + 2 / Soft - Feature * 0.5")]
                    internal partial Tensor LossOnly(Tensor x, Tensor y);
            """),
        },
        ["Stateful"] = new[]
        {
            Loss("Stateful", Alpha + Terms + """
                    /// <summary>The loss.</summary>
                    [Loss("Kd = Soft + Balance(Feature, to: Soft, ema: 0.9)\nU = Uncertainty(Hard, Soft)\nD = Dwa(Hard, Feature, window: 3)\nC = CoV(Hard, Soft + Feature)\nTotal = Hard + Linear(Alpha, 0.9, 100) * Kd + U + D + C * Cosine(1, 0, 10)")]
                    public partial StatefulResult Compute(Tensor x, Tensor y);
            """),
        },
        ["Lists"] = new[]
        {
            Loss("Lists", Alpha + Terms + """
                    [Term] Tensor[] Layers(Tensor x) => new[] { x.mean(), x.sum() };
                    [Term] System.Collections.Generic.IReadOnlyList<Tensor?>? Blocks(Tensor? y) => new[] { y!.mean() };
                    [Term] System.Collections.Generic.IReadOnlyList<(string Name, Tensor? Value)> Named(Tensor x) => new[] { ("a", (Tensor?)x.sum()) };
                    [Term] System.Collections.Generic.IReadOnlyList<(string Name, Tensor Value)> Labelled(Tensor x) => new[] { ("b", x.sum()) };
                    [Term] System.Collections.Generic.IReadOnlyList<(string? Name, Tensor? Value)>? Loose(Tensor x) => new[] { ((string?)"c", (Tensor?)x.sum()) };

                    /// <summary>A switch.</summary>
                    public bool UseLabelled { get; set; }

                    /// <summary>The loss.</summary>
                    [Loss("Scaled = Alpha * Layers\nB = Balance(Blocks, to: Soft, max: 10)\nTotal = Hard + Sum(Balance(Layers, to: Hard)) + Mean(Scaled) + Sum(Detach(B)) + Mean(Balance(-Named / 2, to: Hard)) + Sum(Balance(If(UseLabelled, Labelled), to: Soft)) + Sum(Loose)",
                          MetricsPrefix = "p/", CheckFinite = true)]
                    public partial ListsResult Compute(Tensor x, Tensor? y);

                    /// <summary>The loss only.</summary>
                    [Loss("Total = Hard + Mean(Layers)")]
                    internal partial Tensor LossOnly(Tensor x);
            """),
        },
        ["Nested generic types and unusual parameters"] = new[]
        {
            Header + """
            namespace Cases
            {
                /// <summary>Outer.</summary>
                public static partial class Outer<T>
                {
                    /// <summary>Inner.</summary>
                    public partial class Inner<U> where U : class
                    {
                        [Term] Tensor Hard(Tensor x) => x.mean();
                        [Term] Tensor Soft(Tensor x, U tag) => x.abs().mean();

                        /// <summary>The loss.</summary>
                        [Loss("Total = Hard + Balance(Soft, to: Hard) * rest")]
                        public partial InnerResult Compute(Tensor x, U tag, (int A, int B) pair, System.Collections.Generic.IReadOnlyList<T>? extras, double rest);

                        /// <summary>An overload that LossDsl does not implement.</summary>
                        public Tensor Compute(Tensor x) => x;
                    }
                }

                /// <summary>A struct.</summary>
                internal partial struct Pair
                {
                    [Term] static Tensor Hard(Tensor x) => x.mean();

                    [Loss("Total = Hard * 2")]
                    public static partial PairResult Compute(Tensor x);
                }

                /// <summary>A record.</summary>
                public partial record Record(double Alpha)
                {
                    [Term] Tensor Hard(Tensor x) => x.mean();

                    /// <summary>The loss.</summary>
                    [Loss("Total = Alpha * Hard")]
                    public partial RecordResult Compute(Tensor x);
                }
            }
            """,
        },
        ["Optional terms and term defaults"] = new[]
        {
            Loss("Optional", Alpha + """
                    /// <summary>A switch.</summary>
                    public bool UseFeature { get; set; } = true;

                    /// <summary>A static switch.</summary>
                    public static bool Everywhere = true;

                    [Term] Tensor Hard(Tensor x, double scale = 1.0, params Tensor[] more) => x.mean() * scale;
                    [Term] Tensor Soft(Tensor x, string? label = null) => x.abs().mean();
                    [Term] static Tensor Feature(Tensor y) => y.pow(2).mean();

                    /// <summary>The loss.</summary>
                    [Loss("Kd = Soft + Balance(If(UseFeature, Feature), to: Soft)\nTotal = If(Everywhere, Hard) + Alpha * Kd")]
                    public partial OptionalResult Compute(Tensor x, Tensor y, Tensor? z);

                    /// <summary>The loss only, switched by a parameter.</summary>
                    [Loss("Total = Hard + If(useSoft, Soft)")]
                    internal partial Tensor LossOnly(Tensor x, bool useSoft);
            """),
        },
        ["Readonly members, custom obsolete IDs and NotNull"] = new[]
        {
            Header + """
            using System.Diagnostics.CodeAnalysis;

            namespace Cases
            {
                /// <summary>A struct with a readonly loss.</summary>
                public partial struct ReadonlyLoss
                {
                    [Term] Tensor Hard(Tensor x) => x.mean();
                    [Term] readonly Tensor Soft(Tensor x) => x.abs().mean();

                    /// <summary>A weight.</summary>
                    public double Alpha { get; set; }

                    /// <summary>The loss.</summary>
                    [Loss("Total = Hard + Alpha * Soft")]
                    public readonly partial ReadonlyLossResult Compute(Tensor x);
                }

                /// <summary>Obsolete with a diagnostic ID of its own.</summary>
                public partial class CustomObsolete
                {
                    [System.Obsolete("use Soft", DiagnosticId = "LEGACY001")]
                    [Term] Tensor Hard(Tensor x) => x.mean();

                    /// <summary>A weight.</summary>
                    [System.Obsolete("tune Beta", DiagnosticId = "LEGACY002")]
                    public double Alpha { get; set; }

                    /// <summary>The loss.</summary>
                    [Loss("Total = Alpha * Hard")]
                    public partial Tensor Compute(Tensor x);
                }

                /// <summary>NotNull on a nullable parameter.</summary>
                public partial class NotNullLoss
                {
                    [Term] Tensor Hard(Tensor x) => x.mean();

                    /// <summary>The loss.</summary>
                    [Loss("Total = Hard")]
                    public partial Tensor Compute([NotNull] Tensor? x);
                }
            }
            """,
        },
        ["Global namespace"] = new[]
        {
            Header + """
            /// <summary>A loss.</summary>
            public partial class GlobalLoss
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                /// <summary>The loss.</summary>
                [Loss("Total = Hard * 2")]
                public partial GlobalLossResult Compute(Tensor x);
            }
            """,
        },
        ["Nullable tensors"] = new[]
        {
            Loss("Nullable", """
                    /// <summary>A member that may be null.</summary>
                    public Tensor? Prior { get; set; }

                    [Term] Tensor? Hard(Tensor x) => x.mean();
                    [Term] Tensor Soft(Tensor x, string label) => x.abs().mean() * label.Length;
                    [Term] Tensor Feature(Tensor? y) => (y ?? torch.ones(1)).pow(2).mean();

                    /// <summary>The loss.</summary>
                    [Loss("Total = Hard + Soft + Balance(Feature, to: Hard) + given + Prior")]
                    public partial NullableResult Compute(Tensor? x, Tensor? y, Tensor? given, string? label);

                    /// <summary>The loss only.</summary>
                    [Loss("Total = Hard * 2")]
                    public partial Tensor? LossOnly(Tensor? x);
            """),
        },
        ["Nullable disabled in the file"] = new[]
        {
            Loss("Oblivious", Terms + """
                    /// <summary>A member.</summary>
                    public Tensor Prior { get; set; }

                    /// <summary>The loss.</summary>
                    [Loss("Total = Hard + Soft + Feature + Prior")]
                    public partial ObliviousResult Compute(Tensor x, Tensor y);
            """, before: "#nullable disable\n"),
        },
        ["Bindings named like object's members"] = new[]
        {
            Loss("ObjectNames", Terms + """
                    /// <summary>The loss.</summary>
                    [Loss("ToString = Hard\nEquals = Soft\nGetHashCode = Hard * 2\nGetType = Soft * 2\nMemberwiseClone = Hard + Soft\nReferenceEquals = Hard - Soft\nFinalize = Hard * Soft\nMetrics = Hard / Soft\nDispose = Soft / Hard\nTotal = ToString + Equals + GetHashCode + GetType + MemberwiseClone + ReferenceEquals + Finalize + Metrics + Dispose")]
                    public partial ObjectNamesResult Compute(Tensor x);

                    /// <summary>A formula with an error: its result is a stub.</summary>
                    [Loss("ToString = Hard\nGetType = Soft\nTotal = ToString +")]
                    public partial BrokenResult Broken(Tensor x);
            """),
        },
        ["Generated names inherited"] = new[]
        {
            Header + """
            namespace Cases
            {
                /// <summary>A base with members named like LossDsl's.</summary>
                public class NamesBase
                {
                    /// <summary>Taken.</summary>
                    public const string ComputeExplanation = "mine";

                    /// <summary>Taken.</summary>
                    protected object? TrainState { get; set; }
                }

                /// <summary>A loss.</summary>
                public partial class Inheriting : NamesBase
                {
                    [Term] Tensor Hard(Tensor x) => x.mean();
                    [Term] Tensor Soft(Tensor x) => x.abs().mean();

                    /// <summary>The loss.</summary>
                    [Loss("Total = Hard + Soft")]
                    public partial Tensor Compute(Tensor x);

                    /// <summary>A stateful loss.</summary>
                    [Loss("Total = Hard + Balance(Soft, to: Hard, ema: 0.9)")]
                    public partial Tensor Train(Tensor x);

                    /// <summary>A loss whose names are free.</summary>
                    [Loss("Total = Hard + Balance(Soft, to: Hard, ema: 0.9)")]
                    public partial Tensor Evaluate(Tensor x);
                }

                /// <summary>A LossDsl class derived from another.</summary>
                public partial class DerivedLoss : Inheriting
                {
                    [Term] Tensor Feature(Tensor x) => x.sum();

                    /// <summary>Hides the base's loss.</summary>
                    [Loss("Total = Feature + Balance(Feature, to: Hard, ema: 0.5)")]
                    public new partial Tensor Evaluate(Tensor x);
                }
            }
            """,
        },
        ["Number bindings"] = new[]
        {
            Loss("Numbers", Alpha + Terms + """
                    /// <summary>A constant.</summary>
                    public const double Margin = 0.1;

                    /// <summary>The loss: no number binding is used, and some are C# constants.</summary>
                    [Loss("X = 0.5\nY = Alpha * 2\nZ = -(1 + 2)\nC = Margin * 2\nM = Margin\nN = M * 2 + Y\nTotal = Hard")]
                    public partial NumbersResult Compute(Tensor x);
            """),
        },
        ["Math functions"] = new[]
        {
            Loss("Maths", Alpha + Terms + """
                    /// <summary>A count.</summary>
                    public int Steps { get; set; } = 10;

                    /// <summary>The loss: math on numbers folded, computed at call time, and on tensors.</summary>
                    [Loss("F = Sqrt(16) * 2 ^ 3\nN = Log(Alpha) + Min(Steps, 3) ^ -1 + Clamp(Alpha, 0, 1) + Abs(weight)\nP = 2 ^ (Hard + Soft) + Hard ^ Soft ^ N\nTotal = F * Sqrt(Hard) + N * Min(Soft, Alpha) + Max(Hard, Feature) + Clamp(Exp(-Soft), 0, F) - Log(Abs(Soft)) + P + Balance(Abs(Hard - Soft), to: Log(Feature))")]
                    public partial MathsResult Compute(Tensor x, Tensor y, double weight);
            """),
        },
        ["Overloads and keyword names"] = new[]
        {
            Loss("Overloads", Terms + """
                    /// <summary>The loss.</summary>
                    [Loss("Total = Hard")]
                    public partial OverloadsResult Compute(Tensor x);

                    /// <summary>An overload.</summary>
                    public Tensor Compute(Tensor x, Tensor y) => x + y;

                    /// <summary>A loss named with a keyword.</summary>
                    [Loss("Total = Hard * 2")]
                    public partial ClassResult @class(Tensor x);

                    /// <summary>An overload of it.</summary>
                    public Tensor @class(Tensor x, int n) => x * n;

                    /// <summary>A stateful loss named with a keyword.</summary>
                    [Loss("Total = Hard + Balance(Soft, to: Hard, ema: 0.9)")]
                    public partial Tensor @event(Tensor x);

                    /// <summary>An overloaded [Loss] method: LD0008.</summary>
                    [Loss("Total = Soft")]
                    public partial Tensor Compute(Tensor x, double weight);
            """),
        },
        ["Obsolete members"] = new[]
        {
            Loss("Old", """
                    /// <summary>An old weight.</summary>
                    [System.Obsolete("use Beta")]
                    public double Alpha { get; set; } = 0.5;

                    /// <summary>A constant.</summary>
                    public const double Margin = 0.1;

                    [System.Obsolete]
                    [Term] Tensor Hard(Tensor x) => x.mean();
                    [Term] Tensor Soft(Tensor x) => x.abs().mean();

                    /// <summary>The loss.</summary>
                    [Loss("M = Margin\nTotal = Alpha * Hard + Soft")]
                    public partial OldResult Compute(Tensor x);
            """),
        },
        ["Lower-case names"] = new[]
        {
            // The user silences CS8981 at the declaration; the result type's name is only in the return type.
            Loss("lower", """
                    [Term] Tensor hard(Tensor x) => x.mean();
                    [Term] Tensor soft(Tensor x) => x.abs().mean();

                    /// <summary>The loss.</summary>
                    [Loss("total = hard + Balance(soft, to: hard, ema: 0.9)")]
                    public partial lowerresult compute(Tensor x);
            """, before: "#pragma warning disable CS8981\n"),
        },
        ["Formula errors"] = new[]
        {
            Loss("Errors", Terms + """
                    /// <summary>A syntax error.</summary>
                    [Loss("Total = Hard +")]
                    public partial ErrorsResult Syntax(Tensor x);

                    /// <summary>An unknown name.</summary>
                    [Loss("Kd = Soft\nTotal = Nope")]
                    public partial UnknownResult Unknown(Tensor x);

                    /// <summary>A wrong return type.</summary>
                    [Loss("Total = Hard")]
                    public partial double Wrong(Tensor x);
            """),
        },
    };

    public static TheoryData<string, LanguageVersion> CasesAtEveryVersion()
    {
        var data = new TheoryData<string, LanguageVersion>();
        foreach (string name in Cases.Keys)
        {
            foreach (LanguageVersion version in StrictBuild.LanguageVersions)
            {
                data.Add(name, version);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CasesAtEveryVersion))]
    public void GeneratedCodeHasNoWarning(string name, LanguageVersion version)
        => AssertClean(StrictBuild.Compilation(version, NullableContextOptions.Enable, warningsAsErrors: true, Cases[name]));

    [Theory]
    [InlineData("Stateful")]
    [InlineData("Stateless")]
    [InlineData("Overloads and keyword names")]
    public void GeneratedCodeHasNoWarningWhenTheProjectDisablesNullable(string name)
        => AssertClean(StrictBuild.Compilation(LanguageVersion.CSharp9, NullableContextOptions.Disable, warningsAsErrors: true, Cases[name]));

    [Fact]
    public void TheTestCoversCSharp9ToPreview()
    {
        Assert.Equal(LanguageVersion.CSharp9, StrictBuild.LanguageVersions[0]);
        Assert.Equal(LanguageVersion.Preview, StrictBuild.LanguageVersions[^1]);
        Assert.Contains(LanguageVersion.CSharp10, StrictBuild.LanguageVersions);
    }

    [Fact]
    public void ABindingNamedLikeAnObjectMemberGetsANumberedProperty()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.Features("ToString = Hard\nGetType = Soft * 2\nTotal = ToString + GetType"));

        Assert.Empty(run.Errors);
        Assert.Contains("public global::TorchSharp.torch.Tensor ToString2 => ", run.Source);
        Assert.Contains("public global::TorchSharp.torch.Tensor GetType2 => ", run.Source);
        Assert.Contains("\"to_string2\", \"get_type2\"", run.Source);
        Assert.DoesNotContain(" ToString =>", run.Source);
    }

    [Fact]
    public void AMemberABaseTypeDeclaresTakesTheGeneratedName()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace Sample;

            public class NamesBase
            {
                public const string ComputeExplanation = "mine";
                protected object? TrainState { get; set; }
                private int EvaluateExplanation = 0;
            }

            public partial class Inheriting : NamesBase
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial Tensor Compute(Tensor x);

                [Loss("Total = Balance(Hard, to: Hard * 2, ema: 0.9)")]
                public partial Tensor Train(Tensor x);

                [Loss("Total = Hard")]
                public partial Tensor Evaluate(Tensor x);
            }
            """);

        Assert.Equal(
            new[]
            {
                "[Loss] method 'Compute' needs the member name 'ComputeExplanation' for its explanation text, but 'NamesBase' already uses it; rename the method or the member",
                "[Loss] method 'Train' needs the member name 'TrainState' for its state, but 'NamesBase' already uses it; rename the method or the member",
            },
            run.GeneratorDiagnostics.Where(d => d.Id == "LD0008").Select(d => d.GetMessage()));
        Assert.DoesNotContain(run.Errors, d => !d.Id.StartsWith("LD", StringComparison.Ordinal));
        Assert.Contains("public const string EvaluateExplanation =", run.Source); // a base's private member hides nothing
    }

    [Fact]
    public void TheMathFunctionsCaseIsGeneratedNotStubbed()
    {
        GeneratorRun run = GeneratorHarness.Run(Cases["Math functions"][0]);

        Assert.Empty(run.Errors);
        Assert.Contains("public const string ComputeExplanation =", run.Source);
        Assert.Contains("global::TorchSharp.torch.full_like(", run.Source);
    }

    [Fact]
    public void ANumberBindingNothingReadsIsExplainedButNotComputedInATensorReturningLoss()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.Features("M = Margin\nN = M * 2 + Alpha + Cosine(1, 0, Steps)\nW = Alpha * 3\nTotal = W * Hard", returnType: "Tensor"));

        Assert.Empty(run.Errors);
        Assert.DoesNotContain("double cosineSchedule", run.Source); // read only by N, which nothing reads
        Assert.Contains("double w = (this.Alpha * 3.0);", run.Source);
        Assert.DoesNotContain("double m ", run.Source);
        Assert.DoesNotContain("double n ", run.Source);
        Assert.Contains("\"N = (((M * 2) + Alpha) + CosineSchedule)   [a number]\\n\"", run.Source); // still explained
        Assert.Contains("// N = M * 2 + Alpha", run.Source);
    }

    [Fact]
    public void EveryNumberBindingThatIsNotALiteralIsComputedForTheResult()
    {
        GeneratorRun run = GeneratorHarness.Run(Sources.Features("M = Steps\nN = M * 2 + Alpha\nW = Alpha * 3\nHalf = 0.5 * 2\nTotal = W * Hard"));

        Assert.Empty(run.Errors);
        Assert.Contains("double m = (double)this.Steps;", run.Source);
        Assert.Contains("double n = ((m * 2.0) + this.Alpha);", run.Source);
        Assert.Contains("double w = (this.Alpha * 3.0);", run.Source);
        Assert.DoesNotContain("double half", run.Source); // a literal after folding: a constant, not a metric
        Assert.Contains("new global::Sample.FeaturesResult(total, hard, m, n, w);", run.Source);
        Assert.Contains("s_numberKeys = { \"m\", \"n\", \"w\" };", run.Source);
        Assert.Contains("public double N => ", run.Source);
    }

    [Fact]
    public void NullableArgumentsAreCheckedOnEntryWhereTheComputationNeedsThem()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace Sample;

            public partial class Nullable
            {
                [Term] Tensor Hard(Tensor x) => x.mean();
                [Term] Tensor Soft(Tensor? y) => y is null ? torch.zeros(1).sum() : y.mean();

                [Loss("Total = Hard + Soft + given")]
                public partial Tensor Compute(Tensor? x, Tensor? y, Tensor? given, Tensor? unused);
            }
            """);

        Assert.Empty(run.Errors);
        // x reaches a term that does not take null, given is a value of the formula; y's term takes null, and unused is unused.
        string source = run.Source;
        int signature = source.IndexOf("Compute(global::TorchSharp.torch.Tensor? x, global::TorchSharp.torch.Tensor? y, global::TorchSharp.torch.Tensor? given, global::TorchSharp.torch.Tensor? unused)", StringComparison.Ordinal);
        Assert.True(signature > 0, source);
        string entry = source[signature..source.IndexOf("using var scope", signature, StringComparison.Ordinal)];
        Assert.Equal(
            new[]
            {
                "if (x is null) throw new global::System.ArgumentNullException(nameof(x));",
                "if (given is null) throw new global::System.ArgumentNullException(nameof(given));",
            },
            entry.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("if ", StringComparison.Ordinal)));
    }

    [Fact]
    public void TheDocumentationReferencesTheOneOverloadByItsId()
    {
        string source = GeneratorHarness.Run("""
            namespace Sample;

            public partial class Overloads
            {
                [Term] Tensor Hard(Tensor x) => x.mean();

                [Loss("Total = Hard")]
                public partial ClassResult @class(Tensor x);

                public Tensor @class(Tensor x, int n) => x * n;
            }
            """).Source;

        Assert.Contains("/// <summary>How <see cref=\"M:Sample.Overloads.class(TorchSharp.torch.Tensor)\"/> evaluates", source);
        Assert.Contains("/// The result of <see cref=\"M:Sample.Overloads.class(TorchSharp.torch.Tensor)\"/>: the loss", source);
    }

    [Fact]
    public void AnObsoleteLossUsesObsoleteMembersWithoutADiagnostic()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace Sample;

            public partial class Old
            {
                [System.Obsolete("use Beta")]
                public double Alpha { get; set; } = 0.5;

                [System.Obsolete("gone", error: true)]
                [Term] Tensor Hard(Tensor x) => x.mean();

                [System.Obsolete("use Compute2")]
                [Loss("Total = Alpha * Hard")]
                public partial Tensor Compute(Tensor x);
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Contains("this.Hard(x)", run.Source);
    }

    private static void AssertClean(CSharpCompilation input)
    {
        var (output, generatorDiagnostics, thrown) = StrictBuild.Run(input);
        Assert.Null(thrown);
        IReadOnlyList<Diagnostic> generated = StrictBuild.InGeneratedCode(output);
        Assert.True(generated.Count == 0, StrictBuild.Describe(generated, output));
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, StrictBuild.Describe(errors.Concat(generatorDiagnostics), output));
    }
}
