using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Checking;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Formula;
using LossDsl.Generators.Lowering;
using LossDsl.Generators.Model;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis;

namespace LossDsl.Generators;

// A FormulaInput → its FormulaOutput: the formula parsed, checked and lowered, in a step of its
// own that sees no symbol and no source position, so Roslyn skips it for every method whose
// input compares equal after an edit. Its diagnostics are placed relative to the method, and
// located when the output is joined with the transform's positions (Complete).
public sealed partial class LossGenerator
{
    internal static FormulaOutput CompileFormula(FormulaInput input)
    {
        LossDeclaration declaration = input.Declaration;
        var diagnostics = new List<PlacedDiagnostic>();
        void Add(DiagnosticDescriptor descriptor, DiagnosticPlace place, int start, int length, EquatableArray<string> arguments)
            => diagnostics.Add(new PlacedDiagnostic(descriptor, place, start, length, arguments));
        IEnumerable<string> Errors() => input.DeclarationErrors.Concat(
            diagnostics.Where(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error).Select(d => $"{d.Descriptor.Id}: {d.Message}"));
        FormulaOutput Stubbed(IReadOnlyList<BindingSyntax> bindings, string? reason, CheckedFormula? check)
            => new(Stub(declaration.TypeName, declaration.MethodName, input.Signature, input.Result, input.Implemented, Errors().ToList(), bindings, reason, check),
                diagnostics.ToEquatableArray(), UsedTerms(check), Bound: check is { Failed: false });

        var (parsed, syntaxErrors) = FormulaParser.Parse(input.Formula);
        foreach (FormulaError error in syntaxErrors)
        {
            Add(DiagnosticDescriptors.FormulaSyntax, DiagnosticPlace.Formula, error.Span.Start, error.Span.Length, new EquatableArray<string>(new[] { error.Message }));
        }
        if (syntaxErrors.Count == 0 && parsed.Bindings.Count == 0)
        {
            Add(DiagnosticDescriptors.EmptyFormula, DiagnosticPlace.Formula, 0, input.Formula.Length, new EquatableArray<string>(new[] { declaration.MethodName }));
        }
        if (input.DeclarationReported || diagnostics.Count > 0)
        {
            return Stubbed(parsed.Bindings, null, null);
        }

        CheckedFormula check = Checker.Check(declaration, parsed, input.Formula);
        bool valid = true;
        if (check.UsesState)
        {
            // The second name is checked only when the first is free, so a clash gives one error.
            valid = NameFree(input.StateName) && NameFree(input.StateField);
        }
        bool NameFree(GeneratedName name)
        {
            if (name.Holder is null)
            {
                return true;
            }
            Add(DiagnosticDescriptors.GeneratedNameTaken, DiagnosticPlace.MethodName, 0, 0,
                new EquatableArray<string>(new[] { declaration.MethodName, name.Name, "its state", name.Holder }));
            return false;
        }
        foreach (CheckError error in check.Errors)
        {
            Add(error.Descriptor, DiagnosticPlace.Formula, error.Span.Start, error.Span.Length, error.Arguments.ToEquatableArray());
        }
        if (check.Failed || !valid)
        {
            bool reported = Errors().Any();
            return Stubbed(parsed.Bindings, reported ? null : "a [Term] method it uses has errors", check);
        }

        for (int i = 0; i < declaration.Parameters.Count; i++)
        {
            if (!check.UsedParameters.Contains(declaration.Parameters[i].Name))
            {
                Add(DiagnosticDescriptors.UnusedParameter, DiagnosticPlace.Parameter, i, 0,
                    new EquatableArray<string>(new[] { declaration.Parameters[i].Name, declaration.MethodName }));
            }
        }
        PlanBody plan = Lowerer.Lower(declaration, check, input.CheckFinite);
        return new FormulaOutput(new LossMethodSpec(declaration.MethodName, input.Signature, input.Result, plan, input.Implemented),
            diagnostics.ToEquatableArray(), UsedTerms(check), Bound: true);
    }

    private static EquatableArray<string> UsedTerms(CheckedFormula? check)
        => (check?.UsedTerms ?? Array.Empty<string>()).OrderBy(t => t, StringComparer.Ordinal).ToEquatableArray();

    /// <summary>
    /// The transform's result for one method, completed with what its formula step gave: the
    /// method's spec, and its diagnostics at their source locations after the declaration's own.
    /// </summary>
    internal static LossMethodResult Complete(LossMethodInput input, FormulaOutput? output)
    {
        if (input.Formula is not PendingFormula formula || output is null)
        {
            return input.Shell;
        }
        LossMethodReport report = input.Shell.Report;
        return new LossMethodResult(
            input.Shell.Model with { Method = output.Spec },
            report with
            {
                Diagnostics = report.Diagnostics.Concat(output.Diagnostics.Select(d => new DiagnosticInfo(d.Descriptor, formula.Positions.Locate(d), d.Arguments))).ToEquatableArray(),
                UsedTerms = output.UsedTerms,
                Bound = output.Bound,
            });
    }

    /// <summary>
    /// A method that throws, and its result with a throwing property per binding. Where the checker
    /// got to a binding (<paramref name="check"/>), a number binding is a double property as in the
    /// real result, or none when it is a literal, and a list binding a list property.
    /// <paramref name="errors"/> are the method's error messages ("LD0101: …"), which the exception names.
    /// </summary>
    internal static LossMethodSpec Stub(
        string typeName, string methodName, MethodSignatureSpec signature, ResultTypeSpec? result, bool implemented,
        IReadOnlyList<string> errors, IReadOnlyList<BindingSyntax> bindings, string? reason, CheckedFormula? check = null)
    {
        string why = reason ?? (errors.Count == 0 ? "its declaration has errors" : "of " + string.Join("; ", errors.Take(3)) + (errors.Count > 3 ? $"; and {errors.Count - 3} more" : ""));
        string message = $"LossDsl did not implement [Loss] method '{typeName}.{methodName}' because {why}. Fix the compile-time errors and rebuild.";
        var names = new HashSet<string>(ReservedResultNames.Append(result?.Name.TrimStart('@') ?? ""), StringComparer.Ordinal);
        // A number binding whose value failed (a schedule with a bad length) is computed in the real result.
        var numbers = (check?.Bindings ?? Array.Empty<BoundBinding>()).Where(b => BoundError.IntendedKind(b.Value) == ValueKind.Number).GroupBy(b => b.Name)
            .ToDictionary(g => g.Key, g => g.First().Value is not BoundNumber number || number.Value.Constant is null);
        // A binding the checker found to be a list keeps its list type, so code that reads it compiles.
        var lists = new HashSet<string>((check?.Bindings ?? Array.Empty<BoundBinding>()).Where(b => BoundError.IntendedKind(b.Value) == ValueKind.List).Select(b => b.Name), StringComparer.Ordinal);
        var members = bindings
            .Where(b => !numbers.TryGetValue(b.Name, out bool computed) || computed)
            .Select(b => (Property: Naming.Pascal(b.Name), Role: numbers.ContainsKey(b.Name) ? MemberRole.Number : MemberRole.Binding, IsList: lists.Contains(b.Name)))
            .Where(m => names.Add(m.Property))
            .Select(m => new ResultMemberSpec(Naming.Identifier(m.Property), new Local("", m.Property), "", m.Role, m.Property)
            {
                List = m.IsList ? new ListElements(new Local("", m.Property), Unbind: false) : null,
            })
            .ToEquatableArray();
        return new LossMethodSpec(methodName, signature, result, new StubBody(message, members), implemented);
    }
}
