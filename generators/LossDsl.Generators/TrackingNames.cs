namespace LossDsl.Generators;

/// <summary>Names of the pipeline's steps, for the incremental caching tests.</summary>
internal static class TrackingNames
{
    public const string Methods = nameof(Methods);
    public const string ForeignMethods = nameof(ForeignMethods);
    /// <summary>Each method's <see cref="Model.FormulaInput"/>, projected from what the transforms read: unchanged unless something the formula sees changed.</summary>
    public const string FormulaInputs = nameof(FormulaInputs);
    /// <summary>Parsing, checking and lowering each formula: cached for every method whose input is unchanged.</summary>
    public const string Formulas = nameof(Formulas);
    public const string Models = nameof(Models);
    public const string LossTypes = nameof(LossTypes);
    public const string Reports = nameof(Reports);
    /// <summary>The diagnostics decided from the reports, before they meet the compilation: cached when no report changed.</summary>
    public const string Diagnostics = nameof(Diagnostics);

    public static readonly string[] All = { Methods, ForeignMethods, FormulaInputs, Formulas, Models, LossTypes, Reports, Diagnostics };
}
