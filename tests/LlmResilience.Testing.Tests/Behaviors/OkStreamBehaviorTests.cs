using System.Diagnostics;
using System.Text.Json;

namespace LlmResilience.Testing.Tests;

public sealed class OkStreamBehaviorTests
{
    [Fact]
    public async Task OkStream_Interval_PacesTheDeltas()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["one", " two", " three"], TimeSpan.FromMilliseconds(25)));
        using var client = RawClient.Create();
        var stopwatch = Stopwatch.StartNew();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = await reader.ReadAllAsync();

        // role, 3 deltas, finish, [DONE]; a pause before each delta and before the finish chunk.
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(95), $"The stream took {stopwatch.ElapsedMilliseconds} ms.");
        Assert.Equal(6, events.Count);
        var contents = events[1..4].Select(e => JsonDocument.Parse(SseReader.Data(e)).RootElement
            .GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
        Assert.Equal(["one", " two", " three"], contents);
        Assert.Equal("OkStream", Assert.Single(server.Requests).BehaviorName);
    }

    [Fact]
    public async Task OkStream_LongInterval_EachEventIsFlushedAsItIsWritten()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["never sent"], TimeSpan.FromMinutes(5)));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var role = await reader.ReadEventAsync();

        // The role chunk arrived while the server waits before the next event: it was flushed on its own.
        Assert.Contains("\"role\":\"assistant\"", role, StringComparison.Ordinal);
        Assert.Equal(1, server.InFlightRequests);
    }

    [Fact]
    public async Task OkStream_IncludeUsage_SendsUsageChunkWithoutBeingAsked()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["a b", " c"], includeUsage: true));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = await reader.ReadAllAsync();

        var usage = JsonDocument.Parse(SseReader.Data(events[^2])).RootElement.GetProperty("usage");
        Assert.Equal(3, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal("data: [DONE]", events[^1]);
    }

    [Fact]
    public async Task OkStream_NonStreamingRequest_StillStreams()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["x"]));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void OkStream_NegativeInterval_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.OkStream(["x"], TimeSpan.FromMilliseconds(-1)));
    }
}
