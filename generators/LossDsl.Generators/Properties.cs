using System.Runtime.CompilerServices;

// The tests read the model and the descriptors (caching checks, the docs and release-file checks).
[assembly: InternalsVisibleTo("LossDsl.Generators.Tests")]
