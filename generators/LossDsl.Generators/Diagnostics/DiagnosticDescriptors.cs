using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace LossDsl.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. IDs are stable: they are documented in
/// docs/diagnostics.md and listed in AnalyzerReleases.*.md. Declarations first (LD00xx),
/// then the formula (LD01xx), then the members a formula uses (LD02xx).
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "LossDsl";

    public static readonly DiagnosticDescriptor TypeNotPartial = Error(
        "LD0001", "Loss type must be partial",
        "Type '{0}' must be declared partial because it contains the [Loss] method '{1}'");

    public static readonly DiagnosticDescriptor LossMethodNotPartial = Error(
        "LD0002", "[Loss] method must be a partial declaration",
        "[Loss] method '{0}' must be a partial declaration without a body: LossDsl writes its implementation");

    public static readonly DiagnosticDescriptor LossMethodGeneric = Error(
        "LD0003", "[Loss] method must not be generic",
        "[Loss] method '{0}' must not be generic");

    public static readonly DiagnosticDescriptor InvalidReturnType = Error(
        "LD0004", "[Loss] method has an unsupported return type",
        "[Loss] method '{0}' returns '{1}'; return TorchSharp's Tensor for the loss only, or a type name that does not exist yet for LossDsl to generate as the result");

    public static readonly DiagnosticDescriptor StaticLossUsesInstanceMember = Error(
        "LD0005", "Static [Loss] method uses an instance member",
        "Static [Loss] method '{0}' cannot use the instance member '{1}'");

    public static readonly DiagnosticDescriptor LossParameterByReference = Error(
        "LD0006", "[Loss] method parameter passed by reference",
        "Parameter '{0}' of [Loss] method '{1}' is {2}; a loss takes its inputs by value");

    public static readonly DiagnosticDescriptor DuplicateResultType = Error(
        "LD0007", "Result type generated twice",
        "[Loss] method '{0}' returns '{1}', which LossDsl already generates for '{2}'; give each [Loss] method its own result type");

    public static readonly DiagnosticDescriptor GeneratedNameTaken = Error(
        "LD0008", "Generated member name taken",
        "[Loss] method '{0}' needs the member name '{1}' for {2}, but {3} already uses it; rename the method or the member");

    public static readonly DiagnosticDescriptor FileLocalLossType = Error(
        "LD0009", "Loss type is file-local",
        "Type '{0}' is file-local, so LossDsl cannot implement its [Loss] method '{1}' (generated code is another file); remove 'file' and hide the type by nesting it or making it internal");

    public static readonly DiagnosticDescriptor GeneratedCodeCompiled = Error(
        "LD0010", "Generated code compiled as source",
        "'{0}' is a copy of LossDsl's generated code for '{1}' and is compiled as source, so LossDsl generates nothing for '{1}'; exclude the copies from compilation with <Compile Remove=\"{2}/**\" />");

    public static readonly DiagnosticDescriptor ForeignLossAttribute = Error(
        "LD0011", "[Loss] is not LossDsl's attribute",
        "'{0}' on [Loss] method '{1}' resolves to '{2}', not LossDsl's [Loss] attribute; add 'using LossDsl;' or write [LossDsl.Loss(...)]");

    public static readonly DiagnosticDescriptor LossOnNonMethod = Error(
        "LD0012", "[Loss] on a member that is not an ordinary method",
        "[Loss] is on {0} '{1}', which LossDsl cannot implement; put [Loss] on a partial method");

    public static readonly DiagnosticDescriptor ResultTypeNameUnusable = Error(
        "LD0013", "Result type name cannot be generated",
        "[Loss] method '{0}' returns '{1}', {2}; give the result type another name");

    public static readonly DiagnosticDescriptor FormulaSyntax = Error(
        "LD0101", "Formula syntax error",
        "Formula syntax error: {0}");

    public static readonly DiagnosticDescriptor EmptyFormula = Error(
        "LD0102", "Formula is empty",
        "The formula of [Loss] method '{0}' has no bindings; write at least one, such as 'Total = Hard + Soft'");

    public static readonly DiagnosticDescriptor UnknownName = Error(
        "LD0103", "Unknown name in formula",
        "'{0}' is not a binding, [Term] method, parameter or numeric member of '{1}'{2}");

    public static readonly DiagnosticDescriptor DuplicateBinding = Error(
        "LD0104", "Name bound twice",
        "'{0}' is already {1}; give this binding another name");

    public static readonly DiagnosticDescriptor AmbiguousName = Error(
        "LD0105", "Ambiguous name in formula",
        "'{0}' is ambiguous: it names {1}");

    public static readonly DiagnosticDescriptor UsedBeforeDefined = Error(
        "LD0106", "Binding used before it is defined",
        "Binding '{0}' is used before it is defined{1}");

    public static readonly DiagnosticDescriptor InvalidCall = Error(
        "LD0107", "Invalid function call",
        "Invalid call to '{0}': {1}");

    public static readonly DiagnosticDescriptor InvalidBalance = Error(
        "LD0108", "Invalid Balance",
        "Invalid Balance: {1}");

    public static readonly DiagnosticDescriptor LossNotTensor = Error(
        "LD0109", "Loss has no tensor",
        "The loss '{0}' (the formula's last binding) must involve a tensor, but it is a plain number");

    public static readonly DiagnosticDescriptor InvalidStrategy = Error(
        "LD0110", "Invalid weighting strategy",
        "Invalid {0} weighting: {1}");

    public static readonly DiagnosticDescriptor InvalidSchedule = Error(
        "LD0111", "Invalid schedule",
        "Invalid {0} schedule: {1}");

    public static readonly DiagnosticDescriptor StateInStaticLoss = Error(
        "LD0112", "State in a static loss",
        "[Loss] method '{0}' is static, but {1} keeps state, which lives on an instance of the loss type; make the method an instance method");

    public static readonly DiagnosticDescriptor BindingCycle = Error(
        "LD0113", "Bindings depend on each other",
        "Binding '{0}' depends on itself through {1}; a binding can use only bindings defined above it");

    public static readonly DiagnosticDescriptor StateNeedsClass = Error(
        "LD0114", "State in a struct, record or interface",
        "[Loss] method '{0}' uses {1}, which keeps state, but '{2}' is {3}: {4}; declare '{2}' as a class");

    public static readonly DiagnosticDescriptor InvalidMath = Error(
        "LD0115", "Invalid math function call",
        "Invalid call to the math function '{0}': {1}");

    public static readonly DiagnosticDescriptor NonFiniteMath = Warning(
        "LD0116", "Math on literals is not finite",
        "'{0}' is {1} for the numbers written, so what is computed from it is not finite");
    public static readonly DiagnosticDescriptor ListNotReduced = Error(
        "LD0125", "List of tensors used where one tensor is needed",
        "'{0}' is a list of tensors, one per element, but {1}; reduce it to one tensor with Sum({0}) or Mean({0})");

    public static readonly DiagnosticDescriptor InvalidListReduction = Error(
        "LD0126", "Invalid list reduction",
        "Invalid {0}: {1}");

    public static readonly DiagnosticDescriptor InvalidGradient = Error(
        "LD0127", "Invalid gradient specification",
        "Invalid gradient specification in {0}: {1}");

    public static readonly DiagnosticDescriptor InvalidTerm = Error(
        "LD0201", "Invalid [Term] method",
        "[Term] method '{0}' {1}");

    public static readonly DiagnosticDescriptor NonNumericValue = Error(
        "LD0202", "Value in formula is not a number or tensor",
        "'{0}' has type '{1}'; a formula can use a value only if it is a double, float, int, long or a 0-dim Tensor");

    public static readonly DiagnosticDescriptor UnreachableMember = Error(
        "LD0205", "Member unreachable from generated code",
        "Member '{0}' {1}");

    public static readonly DiagnosticDescriptor UnusedTerm = Warning(
        "LD0203", "[Term] method not used",
        "[Term] method '{0}' is not used by any [Loss] formula of '{1}'");

    public static readonly DiagnosticDescriptor UnusedParameter = Warning(
        "LD0204", "[Loss] parameter not used",
        "Parameter '{0}' of [Loss] method '{1}' is used neither by its formula nor by a term the formula calls");

    public static readonly DiagnosticDescriptor ObsoleteUsed = Warning(
        "LD0206", "Formula uses an obsolete member",
        "The formula uses {0}, which is obsolete{1}");

    public static readonly DiagnosticDescriptor ObsoleteErrorUsed = Error(
        "LD0207", "Formula uses a member that is obsolete as an error",
        "The formula uses {0}, which is obsolete and may not be used{1}");

    public static readonly DiagnosticDescriptor ReadonlyLossUsesMutableMember = Warning(
        "LD0208", "Readonly [Loss] method uses a member that is not readonly",
        "The readonly [Loss] method '{0}' uses {1}, which is not readonly, so the struct is copied to call it and the member's changes are lost; mark it readonly or remove readonly from '{0}'");

    /// <summary>Every descriptor of this class, found by reflection so that none can be left out.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } = typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .OrderBy(d => d.Id, System.StringComparer.Ordinal)
        .ToList();

    public static DiagnosticDescriptor ById(string id) => All.First(d => d.Id == id);

    private static DiagnosticDescriptor Error(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static DiagnosticDescriptor Warning(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);
}
