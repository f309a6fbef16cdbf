using System.Diagnostics;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Testing.Tests;

public sealed class StreamKeepAliveOnlyBehaviorTests
{
    [Fact]
    public async Task StreamKeepAliveOnly_Interval_SendsOnlyCommentsAtThatPace()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamKeepAliveOnly(TimeSpan.FromMilliseconds(20)));
        using var client = RawClient.Create();
        var stopwatch = Stopwatch.StartNew();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            events.Add((await reader.ReadEventAsync())!);
        }

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.All(events, e => Assert.Equal(": keep-alive", e));
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(75), $"4 comments took {stopwatch.ElapsedMilliseconds} ms.");
        Assert.Equal("StreamKeepAliveOnly", Assert.Single(server.Requests).BehaviorName);
    }

    [Fact]
    public async Task StreamKeepAliveOnly_ClientLeaves_ServerReleasesTheRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamKeepAliveOnly(TimeSpan.FromMilliseconds(10)));
        using var client = RawClient.Create();

        using (var response = await RawClient.PostAsync(client, server, RawClient.StreamBody))
        {
            using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
            await reader.ReadEventAsync();
        }

        Assert.True(await Eventually.TrueAsync(() => server.InFlightRequests == 0), "The keep-alive stream is still running.");
    }

    [Fact]
    public void StreamKeepAliveOnly_ZeroInterval_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.StreamKeepAliveOnly(TimeSpan.Zero));
    }
}
