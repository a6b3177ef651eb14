namespace LossDsl.Generators.Text;

/// <summary>Text that goes into a generated one-line XML doc comment.</summary>
internal static class DocComment
{
    /// <summary>Escapes XML and folds line breaks, so the text stays inside its <c>///</c> line.</summary>
    public static string Text(string text)
        => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\r", " ").Replace("\n", " ");
}
