using System.Net.Sockets;
using System.Text.Json;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Testing.Tests;

public sealed class StreamFaultBehaviorTests
{
    [Fact]
    public async Task StreamStallAfter_TwoEvents_ClientReadsTwoEventsThenNothing()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamStallAfter(2));
        using var client = RawClient.Create();

        var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadEventAsync();
        var second = await reader.ReadEventAsync();
        await Task.Delay(50);
        var inFlightDuringStall = server.InFlightRequests;
        using var silence = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.ReadEventAsync(silence.Token));
        Assert.Equal("Hello", Content(first!));
        Assert.Equal(" from", Content(second!));
        Assert.Equal("assistant", JsonDocument.Parse(SseReader.Data(first!)).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(1, inFlightDuringStall);
        Assert.Equal("StreamStallAfter", Assert.Single(server.Requests).BehaviorName);

        // Cancelling the read made the client drop the connection: the stalled stream must end on the server too.
        reader.Dispose();
        response.Dispose();
        Assert.True(await Eventually.TrueAsync(() => server.InFlightRequests == 0), "The stalled stream is still running.");
    }

    [Fact]
    public async Task StreamStallAfter_Zero_SendsOnlyTheHeaders()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamStallAfter(0));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        using var silence = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.ReadEventAsync(silence.Token));
    }

    [Fact]
    public async Task StreamStallAfter_MoreEventsThanWords_RepeatsTheContent()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { DefaultContent = "a b" });
        server.Enqueue(FakeBehavior.StreamEndWithoutDone(5));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = await reader.ReadAllAsync();

        Assert.Equal("a b a b a", string.Concat(events.Select(Content)));
    }

    [Fact]
    public async Task StreamResetAfter_TwoEvents_ClientReadsTheEventsThenConnectionReset()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamResetAfter(2));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadEventAsync();
        var second = await reader.ReadEventAsync();
        var exception = await Assert.ThrowsAnyAsync<IOException>(() => reader.ReadEventAsync());

        // Mid-body, the reset surfaces from the response stream: IOException -> SocketException ConnectionReset.
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        Assert.Equal("Hello", Content(first!));
        Assert.Equal(" from", Content(second!));
        Assert.Equal(SocketError.ConnectionReset, RawClient.FindSocketException(exception)?.SocketErrorCode);
        Assert.Equal("StreamResetAfter", Assert.Single(server.Requests).BehaviorName);
    }

    [Fact]
    public async Task StreamEndWithoutDone_TwoEvents_EndsCleanlyAndTheConnectionIsReused()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamEndWithoutDone(2));
        using var client = RawClient.Create();

        List<string> events;
        using (var response = await RawClient.PostAsync(client, server, RawClient.StreamBody))
        {
            using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
            events = await reader.ReadAllAsync();
        }

        using (var next = await RawClient.PostAsync(client, server))
        {
            Assert.Equal(200, (int)next.StatusCode);
        }

        Assert.Equal(2, events.Count);
        Assert.DoesNotContain("data: [DONE]", events);
        Assert.All(events, e => Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(SseReader.Data(e)).RootElement.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        var requests = server.Requests;
        Assert.Equal("StreamEndWithoutDone", requests[0].BehaviorName);
        Assert.Equal(requests[0].ConnectionId, requests[1].ConnectionId);
    }

    [Fact]
    public void StreamFault_NegativeEvents_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.StreamStallAfter(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.StreamResetAfter(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.StreamEndWithoutDone(-1));
    }

    [Fact]
    public void StreamFault_ToString_NamesTheEventCount()
    {
        Assert.Equal("StreamStallAfter(3)", FakeBehavior.StreamStallAfter(3).ToString());
        Assert.Equal("StreamResetAfter", FakeBehavior.StreamResetAfter(1).Name);
    }

    private static string Content(string sseEvent) =>
        JsonDocument.Parse(SseReader.Data(sseEvent)).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()!;
}
