using System.Linq;
using CsCheck;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Declaration shapes for the fuzz test: the kind of the loss type (class, struct, readonly
/// struct, record, ref struct, interface, static class), where it is declared (namespaces with
/// escaped keywords, nested in generic or variant types), its name (keywords, names of generated
/// members), a base type whose term or member is hidden, the [Loss] method's modifiers
/// (static, virtual, extension, readonly), its parameters (scoped, params, __arglist, defaults,
/// by reference), its return type (new, ref, keywords, namespace names), [Loss] on operators and
/// accessors, a second attribute named Loss, and metrics prefixes with line separators. Every
/// case is valid C# apart from what LossDsl itself must report, so the fuzz test's rule holds:
/// the generated code compiles, or an LD error says why not.
/// </summary>
public static class FuzzDeclarations
{
    private sealed record Container(string Keyword, bool Interface = false, bool Static = false, bool Struct = false, bool Inherits = false);

    private static readonly Container[] Containers =
    {
        new("partial class", Inherits: true),
        new("sealed partial class", Inherits: true),
        new("abstract partial class", Inherits: true),
        new("partial struct", Struct: true),
        new("readonly partial struct", Struct: true),
        new("ref partial struct", Struct: true),
        new("partial record"),
        new("readonly partial record struct", Struct: true),
        new("partial interface", Interface: true),
        new("static partial class", Static: true),
    };

    // Each list starts with the shapes that must work; Mostly picks those four times as often.
    private static readonly string[] TypeNames = { "Loss", "@class", "LOSS", "@event", "ComputeState", "ComputeExplanation", "Case" };

    private static readonly string[] Namespaces = { "", "namespace N;", "namespace Training.@event;", "namespace N.Loss;", "namespace System.Extra;" };

    private static readonly string[] Formulas =
    {
        "Total = Hard + Soft",
        "Total = Hard + Alpha * Balance(Soft, to: Hard)",
        "Total = Hard * Prior + Detach(Soft)",
        "Total = Dwa(Hard, Soft)",
        "Total = Hard + Balance(Soft, to: Hard, ema: 0.9)",
        "Total = Hard + Linear(0, Alpha, 10) * Soft",
        "Kd = Soft * 2; Total = Hard + Kd",
    };

    private static readonly string[] ReturnTypes =
    {
        "Tensor", "CaseResult", "Tensor?", "@Result", "ref Tensor", "ref readonly CaseResult", "System", "TorchSharp", "N", "Training",
        "scoped", "@record", "@var", "@file", "double", "Case",
    };

    private static readonly string[] Parameters =
    {
        "Tensor x",
        "Tensor x, double weight = 0.5",
        "Tensor x, params double[] rest",
        "Tensor x, __arglist",
        "Tensor x, scoped System.ReadOnlySpan<int> span",
        "in Tensor x",
        "Tensor x, out double o",
    };

    private static readonly string[] Prefixes = { "", ", MetricsPrefix = \"p/\"", ", MetricsPrefix = \"a\\u2028b/\"", ", MetricsPrefix = \"a\\u2029\\u0085\\r\\n/\"", ", MetricsPrefix = \"\\0\\uD800/\"" };

    private static readonly string[] Extras =
    {
        "",
        "public new Tensor Hard(Tensor x) => x.sum() * 1000;",
        "public new int Alpha() => 3;",
        "public new Tensor Prior() => torch.tensor(5.0);",
        "private static int __lossDslComputeState; public static int Peek() => __lossDslComputeState++;",
        "[Loss(\"Total = Hard\")] public static {T} operator +({T} a, {T} b) => a;",
        "public int Size { [Loss(\"Total = Soft\")] get => 1; }",
    };

    /// <summary>One of <paramref name="values"/>, the first <paramref name="valid"/> four times as often as each of the others.</summary>
    private static Gen<string> Mostly(string[] values, int valid)
        => Gen.Frequency((4 * (values.Length - valid), Gen.OneOf(values.Take(valid).ToArray())), (values.Length - valid, Gen.OneOf(values.Skip(valid).ToArray())));

    private static readonly string[] Bases =
    {
        "",
        "public class CaseBase { [Term] public Tensor Hard(Tensor x) => x.sum(); public double Alpha => 2; public Tensor Prior => torch.tensor(2.0); }",
        "public class CaseBase { [Term] protected Tensor Hard(Tensor x) => x.sum(); [Term] public static Tensor Soft(Tensor x) => x.abs().sum(); protected double Alpha => 2; }",
        "public class CaseBase0 { [Term] protected Tensor Hard(Tensor x) => x.sum(); } public class CaseBase : CaseBase0 { public new Tensor Hard(Tensor x) => x; }",
        "public class CaseBase { [Term] public virtual Tensor Hard(Tensor x) => x.sum(); }",
    };

    private static readonly string[] Nestings = { "", "public partial class Outer", "public partial class Outer<TOuter> where TOuter : class, new()", "public partial interface IOuter<out TOuter>", "public static partial class Holder" };

    /// <summary>One declaration shape with a formula, as the source of one file.</summary>
    public static Gen<FuzzCase> Case { get; } =
        from container in Gen.OneOf(Containers)
        from name in Mostly(TypeNames, valid: 4)
        from ns in Gen.OneOf(Namespaces)
        from nesting in Gen.OneOf(Nestings)
        from genericType in Gen.Frequency((4, Gen.Const("")), (1, Gen.Const("<T>")), (1, Gen.Const("<out T>")))
        from formula in Gen.OneOf(Formulas)
        from returnType in Mostly(ReturnTypes, valid: 4)
        from parameters in Mostly(Parameters, valid: 5)
        from modifier in Gen.OneOf("public", "internal", "private", "public static", "public virtual", "public readonly", "extension", "")
        from prefix in Gen.OneOf(Prefixes)
        from extra in Mostly(Extras, valid: 4)
        from baseType in Gen.OneOf(Bases)
        from foreign in Gen.Frequency((5, Gen.Const(false)), (1, Gen.Const(true)))
        from staticTerms in Gen.Bool
        select new FuzzCase(Declaration(container, name, ns, nesting, genericType, formula, returnType, parameters, modifier, prefix, extra, baseType, foreign, staticTerms));

    private static string Declaration(Container container, string name, string ns, string nesting, string genericType, string formula, string returnType,
        string parameters, string modifier, string prefix, string extra, string baseType, bool foreign, bool staticTerms)
    {
        // Keep the shape valid C#: only what LossDsl must report may be wrong.
        if (nesting.Contains("IOuter") && !container.Interface)
        {
            nesting = ""; // only interfaces may be nested in a variant interface (CS8427)
        }
        if (genericType == "<out T>" && !container.Interface)
        {
            genericType = "<T>";
        }
        bool extension = modifier == "extension" && container.Static && nesting.Length == 0 && genericType.Length == 0;
        bool isStatic = container.Static || extension || modifier == "public static" || (staticTerms && container.Interface);
        string methodModifiers =
            isStatic ? (modifier is "internal" or "private" ? modifier : "public") + " static" :
            container.Interface ? "public" :
            modifier == "public virtual" && !container.Struct && !container.Keyword.StartsWith("sealed", System.StringComparison.Ordinal) ? modifier :
            modifier is "internal" or "private" ? modifier :
            "public"; // without accessibility, CS8796 is the compiler's own rule (documented beside LD0002)
        if (extension && parameters.StartsWith("in ", System.StringComparison.Ordinal))
        {
            parameters = parameters.Substring(3);
        }
        if (parameters.Contains("__arglist") && (genericType.Length > 0 || nesting.Contains('<')))
        {
            parameters = "Tensor x"; // CS0224: no vararg method in a generic type
        }
        string loss = extension ? "this " + parameters : parameters;

        string member = isStatic ? "static " : "";
        string self = name + (genericType.Length > 0 ? "<T>" : "");
        bool inherits = container.Inherits && baseType.Length > 0 && !isStatic;
        bool classLike = !container.Interface && !container.Static;
        string more =
            extra.StartsWith("public new", System.StringComparison.Ordinal) ? (inherits && baseType.Contains(extra.Split(' ')[3].Split('(')[0]) ? extra : "") :
            extra.Contains("operator") || extra.Contains("__lossDsl") || extra.Contains("Size {") ? (classLike ? extra.Replace("{T}", self) : "") :
            extra;

        string access = container.Interface ? "" : "public ";
        string alpha = inherits && baseType.Contains("Alpha") ? "" : $"{access}{member}double Alpha => 0.5;";
        string prior = inherits && baseType.Contains("Prior") ? "" : $"{access}{member}Tensor Prior => torch.tensor(1.0);";
        string hard = inherits && baseType.Contains("Hard") ? "" : $"[Term] {member}Tensor Hard(Tensor x) => x.mean();";
        string soft = inherits && baseType.Contains("Soft") ? "" : $"[Term] {member}Tensor Soft(Tensor x) => x.abs().mean();";
        string attribute = (foreign ? "[Other.Loss(\"Total = Hadr\")] " : "") + $"[Loss(\"{formula}\"{prefix})]";
        // A second attribute named Loss, declared beside the loss type (a file-scoped namespace allows no other namespace).
        string other = foreign ? "public static class Other { [System.AttributeUsage(System.AttributeTargets.Method)] public sealed class LossAttribute(string f) : System.Attribute { public string F { get; } = f; } }\n" : "";
        string body = $$"""
            {{container.Keyword}} {{name}}{{genericType}}{{(inherits ? " : CaseBase" : "")}}
            {
                {{alpha}}
                {{prior}}
                {{hard}}
                {{soft}}
                {{more}}

                {{attribute}}
                {{methodModifiers}} partial {{returnType}} Compute({{loss}});
            }
            """;
        if (nesting.Length > 0)
        {
            body = $"{nesting}\n{{\n{body}\n}}";
        }
        return $"{ns}\n\n{other}{(inherits ? baseType + "\n" : "")}{body}\n";
    }
}
