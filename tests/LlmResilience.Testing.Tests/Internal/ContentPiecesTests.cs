
namespace LlmResilience.Testing.Tests;

public sealed class ContentPiecesTests
{
    [Theory]
    [InlineData("Hello from FakeLlmServer.", new[] { "Hello", " from", " FakeLlmServer." })]
    [InlineData("one", new[] { "one" })]
    [InlineData("  leading and  double", new[] { "  leading", " and", "  double" })]
    [InlineData("line\nbreak", new[] { "line", "\nbreak" })]
    [InlineData("", new string[0])]
    public void Split_Content_PiecesConcatenateBackToIt(string content, string[] expected)
    {
        var pieces = ContentPieces.Split(content);

        Assert.Equal(expected, pieces);
        Assert.Equal(content, string.Concat(pieces));
    }

    [Theory]
    [InlineData("a b", 0, "")]
    [InlineData("a b", 1, "a")]
    [InlineData("a b", 4, "a b a b")]
    [InlineData("", 2, "text text")]
    public void Take_Count_RepeatsTheWordsWhenNeeded(string content, int count, string expected)
    {
        var pieces = ContentPieces.Take(content, count);

        Assert.Equal(count, pieces.Count);
        Assert.Equal(expected, string.Concat(pieces));
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("   ", 0)]
    [InlineData("Say hello to the tests", 5)]
    [InlineData(" tabs\tand\nlines ", 3)]
    public void CountWords_Text_CountsWhitespaceSeparatedWords(string? text, int expected)
    {
        Assert.Equal(expected, ContentPieces.CountWords(text));
    }
}
