using System.Text.Json;

namespace LlmResilience.Testing.Tests;

public sealed class MalformedSseBehaviorTests
{
    [Fact]
    public async Task MalformedSse_StreamingRequest_SendsADataEventThatIsNotJsonThenDone()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.MalformedSse());
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = await reader.ReadAllAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(2, events.Count);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(SseReader.Data(events[0])));
        Assert.Equal("data: [DONE]", events[1]);
        Assert.Equal("MalformedSse", Assert.Single(server.Requests).BehaviorName);
    }
}
