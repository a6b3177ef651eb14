using Microsoft.CodeAnalysis;

namespace LossDsl.Generators;

[Generator(LanguageNames.CSharp)]
public sealed partial class LossGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
    }
}
