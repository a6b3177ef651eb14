using System.Globalization;

namespace LossDsl.Generators.Text;

/// <summary>How numbers are written: as C# double literals, and as the formula shows them.</summary>
internal static class Literals
{
    private static readonly char[] s_decimalMarks = { '.', 'E', 'e' };

    /// <summary>A C# double literal, round-tripping: 2 → <c>2.0</c>, 1e-8 → <c>1E-08</c>.</summary>
    public static string Number(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.IndexOfAny(s_decimalMarks) >= 0 ? text : text + ".0";
    }

    /// <summary>A number as the formula writes it: 2 → <c>2</c>.</summary>
    public static string Display(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
