namespace LlmResilience.Tests.Resilience.Internal;

public sealed class MediaTypesTests
{
    [Theory]
    [InlineData("text/event-stream", "text/event-stream", true, false)]
    [InlineData("text/event-stream; charset=utf-8", "text/event-stream", true, false)]
    [InlineData("Text/Event-Stream", "Text/Event-Stream", true, false)]
    [InlineData(" text/event-stream ;charset=utf-8", "text/event-stream", true, false)]
    [InlineData("application/json", "application/json", false, true)]
    [InlineData("application/json; charset=utf-8", "application/json", false, true)]
    [InlineData("application/problem+json", "application/problem+json", false, true)]
    [InlineData("text/html; charset=UTF-8", "text/html", false, false)]
    [InlineData("text/event-streamx", "text/event-streamx", false, false)]
    public void Of_RawHeader_ReadsTheMediaTypeWithoutParameters(string header, string mediaType, bool isEventStream, bool isJson)
    {
        using var content = new ByteArrayContent([]);
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", header));

        Assert.Equal(mediaType, MediaTypes.Of(content).ToString());
        Assert.Equal(isEventStream, MediaTypes.IsEventStream(content));
        Assert.Equal(isJson, MediaTypes.IsJsonOrAbsent(content));
        Assert.Equal(mediaType, MediaTypes.Describe(content));
    }

    [Fact]
    public void Of_NoHeader_IsEmptyAndCountsAsJson()
    {
        using var content = new ByteArrayContent([]);

        Assert.True(MediaTypes.Of(content).IsEmpty);
        Assert.False(MediaTypes.IsEventStream(content));
        Assert.True(MediaTypes.IsJsonOrAbsent(content));
        Assert.Equal("untyped", MediaTypes.Describe(content));
    }

    [Fact]
    public void Of_HeaderAlreadyParsed_StillReadsIt()
    {
        using var content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        _ = content.Headers.ContentType!.MediaType; // parsed and stored

        Assert.Equal("application/json", MediaTypes.Of(content).ToString());
        Assert.True(MediaTypes.IsJsonOrAbsent(content));
    }
}
