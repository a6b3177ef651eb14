using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Random and mutated formulas in random declarations: the generator never throws, and every
/// input either generates code that compiles with no error at all and no warning in generated
/// code (at a language version from C# 9 to Preview, documentation comments checked), or gets at
/// least one LD error; and every LD diagnostic is located in the case's source, a formula
/// diagnostic (LD01xx) inside the string of the attribute that binds to LossDsl's [Loss].
/// The default run is 10,000 cases from a fixed seed; LOSSDSL_FUZZ_CASES sets another count and
/// LOSSDSL_FUZZ_RANDOM=1 lets CsCheck pick fresh seeds and shrink a failure. A failure prints the
/// case's CsCheck seed, which replays it through CsCheck_Seed.
/// </summary>
public class FuzzTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const ulong MasterSeed = 20261129;

    [Fact]
    public void GeneratorNeverThrowsAndNeverEmitsBrokenCode()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("LOSSDSL_FUZZ_CASES"), out int n) ? n : 10_000;
        if (Environment.GetEnvironmentVariable("LOSSDSL_FUZZ_RANDOM") == "1")
        {
            FuzzCases.Case.Sample(c => { Check(c); }, iter: cases, print: c => c.Source);
            return;
        }

        // Reproducible: case i is generated from its own PCG stream of one fixed seed.
        int compiled = 0, rejected = 0;
        Parallel.For(0, cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var pcg = new PCG((uint)i, MasterSeed);
            string seed = pcg.ToString();
            FuzzCase fuzzCase = FuzzCases.Case.Generate(pcg, null, out _);
            try
            {
                if (Check(fuzzCase))
                {
                    System.Threading.Interlocked.Increment(ref compiled);
                }
                else
                {
                    System.Threading.Interlocked.Increment(ref rejected);
                }
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"Fuzz case {i} failed; replay it with CsCheck_Seed={seed} and LOSSDSL_FUZZ_RANDOM=1.\n{e.Message}\n--- source ---\n{fuzzCase.Source}");
            }
        });
        output.WriteLine($"{cases:N0} cases: {compiled:N0} generated code that compiles without a warning in it, {rejected:N0} got an LD error; no generator exception, no misplaced diagnostic.");
    }

    /// <summary>
    /// Every LD diagnostic points into the case's own source; every formula diagnostic (LD01xx)
    /// lies inside the string of the <c>[Loss]</c> attribute that binds to LossDsl's attribute
    /// (not inside another attribute named Loss, a comment or the declaration).
    /// </summary>
    private static void AssertLocated(ImmutableArray<Diagnostic> diagnostics, CSharpCompilation input)
    {
        foreach (Diagnostic diagnostic in diagnostics.Where(d => d.Id.StartsWith("LD", StringComparison.Ordinal)))
        {
            Location location = diagnostic.Location;
            Assert.True(location.SourceTree is SyntaxTree inTree && input.SyntaxTrees.Contains(inTree), $"{diagnostic.Id} is not located in the source: {diagnostic}");
            SyntaxTree tree = location.SourceTree!;
            Assert.True(location.SourceSpan.End <= tree.Length, $"{diagnostic.Id} lies beyond its file: {diagnostic}");
            if (!diagnostic.Id.StartsWith("LD01", StringComparison.Ordinal))
            {
                continue;
            }
            SyntaxToken token = tree.GetRoot().FindToken(location.SourceSpan.Start);
            if (location.SourceSpan.Start == token.FullSpan.Start && location.SourceSpan.Start > 0 && !token.Span.Contains(location.SourceSpan.Start))
            {
                token = token.GetPreviousToken(); // an empty span at the end of the literal
            }
            var attribute = token.Parent?.AncestorsAndSelf().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.AttributeSyntax>().FirstOrDefault();
            bool inLiteral = token.Span.Contains(location.SourceSpan.Start) || token.Span.End == location.SourceSpan.Start;
            bool isString = token.IsKind(SyntaxKind.StringLiteralToken) || token.IsKind(SyntaxKind.MultiLineRawStringLiteralToken) || token.IsKind(SyntaxKind.SingleLineRawStringLiteralToken);
            Assert.True(isString && inLiteral && location.SourceSpan.End <= token.Span.End && attribute is not null,
                $"{diagnostic.Id} is not inside a formula string: it underlines '{tree.GetText().ToString(location.SourceSpan)}' in '{token.Parent}'\n{diagnostic}");
            ISymbol? bound = input.GetSemanticModel(tree).GetSymbolInfo(attribute!).Symbol;
            Assert.True(bound?.ContainingType.ToDisplayString() == "LossDsl.LossAttribute",
                $"{diagnostic.Id} underlines the string of an attribute that is not LossDsl's [Loss]: {attribute}\n{diagnostic}");
        }
    }

    /// <summary>
    /// Compiles the case as a consumer's strictest build does (<see cref="StrictBuild"/>) at a
    /// language version picked from the case's text, from C# 9 to Preview, so a case always gets
    /// the same one; a case whose own code needs a newer version (a file-scoped namespace, a raw
    /// string) gets the first that compiles it. Without an LD error, nothing may fail to compile,
    /// and no warning may be located in a generated file (the user's code may warn: the cases are
    /// not written to be clean).
    /// </summary>
    private static bool Check(FuzzCase fuzzCase)
    {
        string source = GeneratorHarness.Usings + fuzzCase.Source;
        IReadOnlyList<LanguageVersion> versions = StrictBuild.LanguageVersions;
        LanguageVersion version = versions[(int)(StableHash(source) % (uint)versions.Count)];
        version = Max(version, NeededBy(CSharpSyntaxTree.ParseText(source, StrictBuild.ParseOptions(version)).GetDiagnostics()));
        while (true)
        {
            CSharpCompilation input = StrictBuild.Compilation(version, NullableContextOptions.Enable, warningsAsErrors: false, source);
            var (output, diagnostics, thrown) = StrictBuild.Run(input);

            Assert.True(thrown is null, $"the generator threw: {thrown}");
            AssertLocated(diagnostics, input);
            if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error && d.Id.StartsWith("LD", StringComparison.Ordinal)))
            {
                return false; // the input is wrong, and the generator said so
            }
            ImmutableArray<Diagnostic> compiled = output.GetDiagnostics();
            // A feature of the case's own code (not of the generated code) that this version lacks: take the version it names.
            LanguageVersion needed = NeededBy(compiled.Where(d => d.Location.SourceTree is SyntaxTree tree && input.SyntaxTrees.Contains(tree)));
            if (needed > version)
            {
                version = needed;
                continue;
            }
            var errors = compiled.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, $"no LD error, but the compilation at {version} fails:\n{string.Join("\n", errors)}");
            IReadOnlyList<Diagnostic> warnings = StrictBuild.InGeneratedCode(output);
            Assert.True(warnings.Count == 0, $"no LD error, but the generated code warns at {version}:\n{StrictBuild.Describe(warnings, output)}");
            return true;
        }
    }

    private static readonly Regex s_needsVersion = new(@"Please use language version (\S+) or greater", RegexOptions.CultureInvariant);

    /// <summary>The newest language version that "feature is not available" errors ask for (C# 9 if none).</summary>
    private static LanguageVersion NeededBy(IEnumerable<Diagnostic> diagnostics)
    {
        LanguageVersion needed = LanguageVersion.CSharp9;
        foreach (Diagnostic diagnostic in diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error))
        {
            Match match = s_needsVersion.Match(diagnostic.GetMessage(CultureInfo.InvariantCulture));
            if (match.Success && LanguageVersionFacts.TryParse(match.Groups[1].Value.TrimEnd('.'), out LanguageVersion version))
            {
                needed = Max(needed, version.MapSpecifiedToEffectiveVersion());
            }
        }
        return needed;
    }

    private static LanguageVersion Max(LanguageVersion a, LanguageVersion b) => a > b ? a : b;

    /// <summary>FNV-1a of the text: the same on every run and machine (string.GetHashCode is randomised per process).</summary>
    private static uint StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = unchecked((hash ^ c) * 16777619);
        }
        return hash;
    }
}

public sealed record FuzzCase(string Source);

/// <summary>CsCheck generators for formulas (valid and mutated) and the declarations around them.</summary>
public static class FuzzCases
{
    private static readonly string[] Names =
    {
        "Hard", "Soft", "Feature", "Alpha", "Steps", "Label", "weight", "given", "x", "Prior", "Kd", "Total", "A", "B",
        "Unknown", "hard", "Balance", "Detach", "to", "eps", "_", "Soft2", "Sqrt", "Pow",
        "Unknown", "hard", "Balance", "Detach", "to", "eps", "_", "Soft2", "Layers", "Layers", "Sum",
    };

    private static readonly string[] Numbers = { "0", "1", "2", "0.5", "1e-8", "1e30", "1e400", ".5", "3.", "007", "1E+2", "2e", "99999999999999999999" };

    private static readonly string[] Options = { "", ", eps: 1e-6", ", min: 0.1, max: 10", ", max: 1, min: 2", ", eps: Alpha", ", foo: 1", ", min: -1", ", eps: 1, eps: 2", ", to: Hard", ", max: 0" };

    private static readonly string[] ScheduleOptions = { "", ", from: 10", ", warmup: Steps", ", from: weight, warmup: 5", ", from: -1", ", warmup: Hard", ", delay: 3", ", from: 1, from: 2" };

    private static readonly string[] GradientTargets = { "Gradient(Net)", "Gradient(Prior)", "Gradient(given)", "Gradient(Alpha)", "Gradient(Hard)", "Gradient(Nope)", "Gradient(Net, Prior)", "Net", "Gradient()" };

    private static readonly char[] Inserted = { '(', ')', ',', ':', '=', ';', '^', '\n', '"', '\\', 'é', '∑', '１', '\t', '/', '*', '$', '{', '}', '\0', ' ', '-', '.', '\r', '\u2028', '\uD83D' };

    private static Gen<string> Atom { get; } = Gen.Frequency(
        (4, Gen.OneOf(Names)),
        (2, Gen.OneOf(Numbers)));

    private static Gen<string> Expression(int depth) => depth == 0
        ? Atom
        : Gen.Frequency(
            (3, Atom),
            (3, from l in Expression(depth - 1) from op in Gen.OneOf("+", "-", "*", "/") from r in Expression(depth - 1) select $"{l} {op} {r}"),
            (1, Expression(depth - 1).Select(e => $"-{e}")),
            (1, Expression(depth - 1).Select(e => $"({e})")),
            (2, from x in Expression(depth - 1) from y in Expression(depth - 1) from o in Gen.OneOf(Options) select $"Balance({x}, to: {y}{o})"),
            (1, Expression(depth - 1).Select(e => $"Detach({e})")),
            // Lists: Layers is a list term (and Soft sometimes is); Sum and Mean reduce them, and their misuse is LD0125/LD0126.
            (2, from f in Gen.OneOf("Sum", "Mean") from e in Gen.Frequency((2, Gen.Const("Layers")), (1, Expression(depth - 1))) select $"{f}({e})"),
            (1, from f in Gen.OneOf("Sum", "Mean") from x in Gen.OneOf("Layers", "2 * Layers", "Detach(Layers)", "-Layers / 4", "Soft")
                from y in Expression(depth - 1) from o in Gen.OneOf("", ", max: 10", ", ema: 0.9") select $"{f}(Balance({x}, to: {y}{o}))"),
            (1, from f in Gen.OneOf("Sum", "Mean") select $"{f}(Layers, Layers)"),
            (1, from f in Gen.OneOf("Softmax", "Hard", "Balance", "Detach", "Blance") from e in Expression(depth - 1) select $"{f}({e})"),
            (1, from f in Gen.OneOf("Uncertainty", "Dwa", "CoV") from a in Expression(depth - 1) from b in Expression(depth - 1)
                from o in Gen.OneOf("", ", temperature: 2", ", window: 3", ", window: 0", ", temperature: Alpha", ", ema: 0.5") select $"{f}({a}, {b}{o})"),
            (1, from f in Gen.OneOf("Linear", "Cosine") from a in Expression(depth - 1) from n in Gen.OneOf("100", "0", "Steps", "-3", "1e400", "Steps / 4", "weight", "Alpha", "Hard")
                from o in Gen.OneOf(ScheduleOptions) select $"{f}({a}, 0.5, {n}{o})"),
            (1, from v in Expression(depth - 1) from m in Gen.OneOf("10", "Steps", "weight", "0", "-1", "Hard") from m2 in Gen.OneOf("20", "5", "Steps * 2", "Alpha")
                from more in Gen.OneOf("", ", 0.1", ", 0.1, 30") from o in Gen.OneOf(ScheduleOptions) select $"Piecewise({v}, {m}, 0.5, {m2}, 0.25{more}{o})"),
            (1, from x in Expression(depth - 1) from y in Expression(depth - 1) from b in Gen.OneOf("0.9", "0", "1", "1.5", "Alpha") select $"Balance({x}, to: {y}, ema: {b})"),
            (1, from s in Gen.OneOf("UseFeature", "useFeature", "Alpha", "Hard", "1", "Nope") from t in Gen.OneOf("Feature", "Soft", "Defaulted", "x", "Hard + Soft", "Feature")
                select $"If({s}, {t})"),
            (1, from l in Expression(depth - 1) from op in Gen.OneOf("^", "^ -", "**") from r in Expression(depth - 1) select $"{l} {op} {r}"),
            // Balancing by gradients: P a module, a tensor member or parameter, or something that is not parameters (LD0127).
            (2, from x in Expression(depth - 1) from y in Expression(depth - 1) from p in Gen.OneOf(GradientTargets)
                from o in Gen.OneOf("", ", stabilizer: 1e-4", ", ema: 0.9", ", eps: 1e-6, stabilizer: 1", ", stabilizer: 0", ", max: 1e4, stabilizer: 1e-4")
                select $"Balance({x}, to: {y}, by: {p}{o})"),
            (1, from x in Expression(depth - 1) from y in Expression(depth - 1) from p in Gen.OneOf(GradientTargets) from o in Gen.OneOf("", ", alpha: 0.9", ", alpha: 0", ", alpha: 1", ", max: 100")
                select $"Anneal({x}, to: {y}, by: {p}{o})"),
            (1, from a in Expression(depth - 1) from b in Expression(depth - 1) from p in Gen.OneOf("Net", "Prior", "given", "Gradient(Net)", "Alpha", "Layers")
                from o in Gen.OneOf("", ", alpha: 1.5", ", lr: 0.01", ", lr: 0", ", alpha: -1") select $"GradNorm({a}, {b}, shared: {p}{o})"),
            (1, Gen.OneOf("Gradient(Net)", "Gradient(Prior) * 2")),
            (2, from f in Gen.OneOf("Sqrt", "Log", "Exp", "Abs", "sqrt", "Min", "Pow") from x in Expression(depth - 1) select $"{f}({x})"),
            (2, from f in Gen.OneOf("Min", "Max", "Pow", "Log") from x in Expression(depth - 1) from y in Expression(depth - 1) select $"{f}({x}, {y})"),
            (1, from x in Expression(depth - 1) from lo in Gen.OneOf(Numbers.Append("Alpha").Append("Soft").ToArray()) from hi in Gen.OneOf("1", "0", "-2", "Steps", "1e400", "Hard")
                select $"Clamp({x}, {lo}, {hi})"));

    private static Gen<string> Formula { get; } =
        from count in Gen.Int[1, 4]
        from names in Gen.OneOf("A", "B", "Kd", "Total", "Hard", "Loss", "A").Array[count]
        from values in Expression(3).Array[count]
        from separator in Gen.OneOf("\n", "; ", "\n\n", " // note\n")
        select string.Join(separator, names.Zip(values, (name, value) => $"{name} = {value}"));

    private static Gen<string> Mutated { get; } =
        from formula in Formula
        from kind in Gen.Int[0, 5]
        from position in Gen.Int[0, 10_000]
        from character in Gen.OneOf(Inserted)
        select Mutate(formula, kind, position, character);

    private static string Mutate(string text, int kind, int position, char character)
    {
        if (text.Length == 0)
        {
            return text;
        }
        int at = position % text.Length;
        return kind switch
        {
            0 => text.Remove(at, 1),
            1 when at + 1 < text.Length => text.Substring(0, at) + text[at + 1] + text[at] + text.Substring(at + 2),
            2 => text.Insert(at, character.ToString()),
            3 => text.Insert(at, "("),
            4 => text.Replace(")", ""),
            _ => text,
        };
    }

    /// <summary>The formula as a C# string literal: regular with escapes, verbatim, or raw.</summary>
    private static string Literal(string formula, int form) => form switch
    {
        1 => "@\"" + formula.Replace("\"", "\"\"") + "\"",
        2 when !formula.Contains('"') && !formula.Contains('\r') && !formula.Contains('\u2028') =>
            "\"\"\"\n        " + formula.Replace("\n", "\n        ") + "\n        \"\"\"",
        _ => SymbolDisplay.FormatLiteral(formula, quote: true),
    };

    private static Gen<FuzzCase> FormulaCase { get; } =
        from formula in Gen.Frequency((1, Formula), (1, Mutated))
        from form in Gen.Int[0, 2]
        from partialType in Gen.Frequency((9, Gen.Const(true)), (1, Gen.Const(false)))
        from keyword in Gen.OneOf("class", "struct", "record", "sealed class")
        from nested in Gen.Bool
        from isStatic in Gen.Frequency((5, Gen.Const(false)), (1, Gen.Const(true)))
        from returnType in Gen.OneOf("CaseResult", "Tensor", "CaseResult", "double", "Tensor?")
        from genericMethod in Gen.Frequency((9, Gen.Const(false)), (1, Gen.Const(true)))
        from parameters in Gen.OneOf("Tensor x, Tensor y", "Tensor x, Tensor y, double weight, Tensor given", "ref Tensor x, Tensor y", "Tensor x, Tensor y, int Steps", "Tensor x, Tensor y, string Label",
            "Tensor x, Tensor y, bool useFeature", "Tensor? x, Tensor? y, bool useFeature, double scale", "Tensor x, Tensor y, int scale")
        from alphaType in Gen.OneOf("double", "float", "int", "long", "string", "Tensor")
        from softReturn in Gen.Frequency((8, Gen.Const("Tensor")), (1, Gen.Const("double")), (1, Gen.Const("Tensor[]")), (1, Gen.Const("System.Collections.Generic.IReadOnlyList<Tensor>")), (1, Gen.Const("System.Collections.Generic.IReadOnlyList<(string Name, Tensor Value)>")))
        from extras in Gen.OneOf("", ", MetricsPrefix = \"p/\"", ", CheckFinite = true")
        select new FuzzCase(Declaration(Literal(formula, form) + extras, partialType, keyword, nested, isStatic, returnType, genericMethod, parameters, alphaType, softReturn));

    /// <summary>A random or mutated formula in a simple declaration, or a declaration shape (<see cref="FuzzDeclarations"/>), four to one.</summary>
    public static Gen<FuzzCase> Case { get; } = Gen.Frequency((4, FormulaCase), (1, FuzzDeclarations.Case));

    private static string Declaration(string attribute, bool partialType, string keyword, bool nested, bool isStatic, string returnType,
        bool genericMethod, string parameters, string alphaType, string softReturn)
    {
        string member = isStatic ? "static " : "";
        // Structs may not have property initializers without a constructor: give them none.
        bool isStruct = keyword == "struct";
        string Init(string value) => isStruct ? "" : $" = {value};";
        string alphaValue = alphaType switch { "string" => "\"0.5\"", "Tensor" => "torch.tensor(0.5)", "float" => "0.5f", "int" or "long" => "1", _ => "0.5" };
        string softBody = softReturn switch
        {
            "Tensor" => "x.abs().mean()",
            "double" => "0",
            _ when softReturn.Contains("Name") => "new[] { (\"abs\", x.abs().mean()), (\"mean\", x.mean()) }",
            _ => "new[] { x.abs().mean(), x.mean() }",
        };
        string body = $$"""
                public {{member}}{{alphaType}} Alpha { get; set; }{{Init(alphaValue)}}
                public {{member}}int Steps { get; set; }{{Init("3")}}
                public {{member}}Tensor Prior { get; set; }{{Init("torch.tensor(1.0)")}}
                public {{member}}nn.Module Net { get; set; }{{Init("nn.Linear(1, 1)")}}
                public {{member}}bool UseFeature { get; set; }{{Init("true")}}

                [Term] {{member}}Tensor Hard(Tensor x) => x.mean();
                [Term] {{member}}{{softReturn}} Soft(Tensor x) => {{softBody}};
                [Term] {{member}}Tensor Feature(Tensor y) => y.pow(2).mean();
                [Term] {{member}}Tensor Label(Tensor x, Tensor labels) => x.sum();
                [Term] {{member}}Tensor Defaulted(Tensor x, double scale = 2.0) => x.mean() * scale;
                [Term] {{member}}Tensor[] Layers(Tensor y) => new[] { y.mean(), y.sum() };

                [Loss({{attribute}})]
                public {{member}}partial {{returnType}} Compute{{(genericMethod ? "<T>" : "")}}({{parameters}});
            """;
        string type = $$"""
            public {{keyword.Replace(keyword.Split(' ').Last(), (partialType ? "partial " : "") + keyword.Split(' ').Last())}} Case
            {
            {{body}}
            }
            """;
        return nested
            ? $"namespace Fuzz;\n\npublic static partial class Outer\n{{\n{type}\n}}\n"
            : $"namespace Fuzz;\n\n{type}\n";
    }
}
