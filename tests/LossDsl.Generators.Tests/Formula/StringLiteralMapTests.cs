using System.Linq;
using LossDsl.Generators.Text;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// The map from a literal's value back to its source characters, checked against the compiler:
/// each literal is parsed by Roslyn, whose value the map must rebuild exactly, and each value
/// character must map to the source characters that wrote it (an escape sequence as a whole).
/// </summary>
public class StringLiteralMapTests
{
    [Fact]
    public void ARegularStringMapsEachEscapeSequenceAsAWhole()
    {
        AssertMapsEachCharacterTo("\"a\\nb\\tc\\r\\0\"", "a", "\\n", "b", "\\t", "c", "\\r", "\\0");
        AssertMapsEachCharacterTo("\"\\\"q\\\" \\\\ \\'\"", "\\\"", "q", "\\\"", " ", "\\\\", " ", "\\'");
        AssertMapsEachCharacterTo("\"\\a\\b\\f\\v\\e\"", "\\a", "\\b", "\\f", "\\v", "\\e");
    }

    [Fact]
    public void ARegularStringMapsUnicodeAndHexEscapes()
    {
        // \x takes up to four hex digits: \x4142 is one character.
        AssertMapsEachCharacterTo("\"\\u0041\\x41-\\x4142+\\u2212\"", "\\u0041", "\\x41", "-", "\\x4142", "+", "\\u2212");
    }

    [Fact]
    public void AnEscapeBeyondTheBasicPlaneIsTwoCharactersOfTheSameSequence()
    {
        AssertMapsEachCharacterTo("\"a\\U0001F600b\"", "a", "\\U0001F600", "\\U0001F600", "b");
    }

    [Fact]
    public void ASurrogatePairWrittenAsItselfMapsCharacterByCharacter()
    {
        AssertMapsEachCharacterTo("\"a😀b\"", "a", "\uD83D", "\uDE00", "b");
    }

    [Fact]
    public void ALoneSurrogateEscapeIsMapped()
    {
        AssertMapsEachCharacterTo("\"a\\uD83Db\"", "a", "\\uD83D", "b");
    }

    [Fact]
    public void AVerbatimStringMapsADoubledQuoteToBothQuotes()
    {
        AssertMapsEachCharacterTo("@\"a\"\"b\\n\"", "a", "\"\"", "b", "\\", "n");
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void AVerbatimStringKeepsItsLineBreaksAsWritten(string lineBreak)
    {
        AssertMapsEachCharacterTo($"@\"a{lineBreak}b\"", new[] { "a" }.Concat(lineBreak.Select(c => c.ToString())).Append("b").ToArray());
    }

    [Fact]
    public void ARawSingleLineStringMapsDirectly()
    {
        AssertMapsEachCharacterTo("\"\"\"a \"q\" \\n\"\"\"", "a", " ", "\"", "q", "\"", " ", "\\", "n");
        AssertMapsEachCharacterTo("\"\"\"\"a \"\"\" b\"\"\"\"", "a", " ", "\"", "\"", "\"", " ", "b");
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")] // a file saved with classic Mac line endings
    [InlineData("\u2028")]
    [InlineData("\u2029")]
    [InlineData("\u0085")]
    public void ARawMultiLineStringLosesItsIndentationAndKeepsItsLineBreaks(string lineBreak)
    {
        string literal = string.Join(lineBreak, "\"\"\"", "        A = Soft", "          + B", "        Total = A", "        \"\"\"");

        var (map, source, value) = MapOf(literal);

        Assert.Equal(string.Join(lineBreak, "A = Soft", "  + B", "Total = A"), value);
        AssertEachCharacterMapsToItself(map, source, value);
        // "Total" sits at the start of the third content line, after its indentation.
        int total = value.IndexOf("Total", System.StringComparison.Ordinal);
        Assert.Equal("Total", source.Substring(map.Map(total, 5).Start, map.Map(total, 5).Length));
    }

    [Fact]
    public void ARawMultiLineStringWithMixedLineBreaksIsMapped()
    {
        string literal = "\"\"\"\r\n    A = 1\r    B = 2\n    C = 3\r\n    \"\"\"";

        var (map, source, value) = MapOf(literal);

        Assert.Equal("A = 1\rB = 2\nC = 3", value);
        AssertEachCharacterMapsToItself(map, source, value);
    }

    [Fact]
    public void AWhitespaceOnlyLineInARawStringKeepsWhatIsBeyondTheIndentation()
    {
        string literal = string.Join("\n", "\"\"\"", "    A = 1", "", "  ", "      ", "    B = 2", "    \"\"\"");

        var (map, source, value) = MapOf(literal);

        Assert.Equal("A = 1\n\n\n  \nB = 2", value);
        AssertEachCharacterMapsToItself(map, source, value);
    }

    [Fact]
    public void ARawStringIndentedWithTabsIsMapped()
    {
        string literal = "\"\"\"\n\t\tA = 1\n\t\t\tB\n\t\t\"\"\"";

        var (map, source, value) = MapOf(literal);

        Assert.Equal("A = 1\n\tB", value);
        AssertEachCharacterMapsToItself(map, source, value);
    }

    [Fact]
    public void ASpanEndsAfterTheEscapeSequenceOfItsLastCharacter()
    {
        var (map, source, _) = MapOf("\"ab\\u0063 d\"");

        Assert.Equal("b\\u0063", Text(source, map.Map(1, 2)));
        Assert.Equal("ab\\u0063 d", Text(source, map.Map(0, 5)));
    }

    [Fact]
    public void TheEndOfTheValueMapsToTheClosingQuotes()
    {
        var (regular, regularSource, _) = MapOf("\"ab\"");
        var (raw, rawSource, _) = MapOf("\"\"\"\n    ab\n    \"\"\"");

        Assert.Equal(0, regular.Map(2, 0).Length);
        Assert.Equal("\"", regularSource.Substring(regular.Map(2, 0).Start, 1));
        Assert.Equal(0, raw.Map(2, 0).Length);
        Assert.Equal("\n", rawSource.Substring(raw.Map(2, 0).Start, 1)); // the line break before the closing line
    }

    [Fact]
    public void APositionOutsideTheValueMapsToTheWholeLiteral()
    {
        var (map, source, value) = MapOf("\"ab\"");
        TextSpan literal = new(source.IndexOf('"'), 4);

        Assert.Equal(literal, map.Map(-1, 1));
        Assert.Equal(literal, map.Map(0, value.Length + 1));
        Assert.Equal(literal, map.Map(0, -1));
    }

    [Fact]
    public void ALiteralOfAnotherFormMapsToItsWholeSpan()
    {
        StringLiteralMap interpolated = StringLiteralMap.Create("$\"ab\"", 10, "ab");

        Assert.Equal(new TextSpan(10, 5), interpolated.Map(0, 1));
    }

    [Fact]
    public void AValueTheMapCannotRebuildMapsToTheWholeLiteral()
    {
        StringLiteralMap mismatched = StringLiteralMap.Create("\"ab\"", 10, "abc");

        Assert.Equal(new TextSpan(10, 4), mismatched.Map(0, 1));
    }

    [Fact]
    public void WholeMapsEverythingToItsSpan()
    {
        StringLiteralMap whole = StringLiteralMap.Whole(new TextSpan(3, 7));

        Assert.Equal(new TextSpan(3, 7), whole.Map(0, 1));
        Assert.Equal(new TextSpan(3, 7), whole.Map(5, 0));
    }

    /// <summary>Parses <paramref name="literal"/> inside a class, as the compiler does, and maps it.</summary>
    private static (StringLiteralMap Map, string Source, string Value) MapOf(string literal)
    {
        string source = $"class C\n{{\n    const string S = {literal};\n}}\n";
        var tree = CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions);
        Assert.Empty(tree.GetDiagnostics());
        var token = tree.GetRoot().DescendantNodes().OfType<LiteralExpressionSyntax>().Single().Token;
        return (StringLiteralMap.Create(token.Text, token.SpanStart, token.ValueText), source, token.ValueText);
    }

    private static void AssertMapsEachCharacterTo(string literal, params string[] written)
    {
        var (map, source, value) = MapOf(literal);

        Assert.Equal(written.Length, value.Length);
        Assert.Equal(written, Enumerable.Range(0, value.Length).Select(i => Text(source, map.Map(i, 1))));
    }

    private static void AssertEachCharacterMapsToItself(StringLiteralMap map, string source, string value)
        => Assert.Equal(value.Select(c => c.ToString()), Enumerable.Range(0, value.Length).Select(i => Text(source, map.Map(i, 1))));

    private static string Text(string source, TextSpan span) => source.Substring(span.Start, span.Length);
}
