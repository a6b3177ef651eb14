namespace LossDsl.Generators;

/// <summary>Names of the pipeline's steps, for the incremental caching tests.</summary>
internal static class TrackingNames
{
    public const string Specs = nameof(Specs);
    public const string LossTypes = nameof(LossTypes);
    public const string HintNameClashes = nameof(HintNameClashes);
}
