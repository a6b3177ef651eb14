namespace LossDsl.Generators;

/// <summary>Names of the pipeline's steps, for the incremental caching tests.</summary>
internal static class TrackingNames
{
    public const string Methods = nameof(Methods);
    public const string ForeignMethods = nameof(ForeignMethods);
    public const string Models = nameof(Models);
    public const string LossTypes = nameof(LossTypes);
    public const string Reports = nameof(Reports);

    public static readonly string[] All = { Methods, ForeignMethods, Models, LossTypes, Reports };
}
