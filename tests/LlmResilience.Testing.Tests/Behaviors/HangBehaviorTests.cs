using System.Diagnostics;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Testing.Tests;

public sealed class HangBehaviorTests
{
    [Fact]
    public async Task Hang_ClientTimeout_ClientTimesOutAndServerReleasesTheRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Ok(), FakeBehavior.Hang());
        using (var warmUpClient = RawClient.Create())
        using (var warmUp = await RawClient.PostAsync(warmUpClient, server))
        {
            await warmUp.Content.ReadAsStringAsync();
        }

        using var client = RawClient.Create(TimeSpan.FromMilliseconds(200));
        var stopwatch = Stopwatch.StartNew();

        var exception = await Assert.ThrowsAsync<TaskCanceledException>(() => RawClient.PostAsync(client, server));

        Assert.IsType<TimeoutException>(exception.InnerException);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(190), $"Timed out after {stopwatch.ElapsedMilliseconds} ms.");
        // Whether or not the request reached the server before the timeout (a loaded machine may take that long), once the
        // client has closed the connection no hanging request may be left running on the server.
        Assert.True(await Eventually.TrueAsync(() => server.InFlightRequests == 0), "The hanging request is still running.");
    }

    [Fact]
    public async Task Hang_ClientCancels_ServerReleasesTheRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Hang());
        using var client = RawClient.Create();
        using var cancellation = new CancellationTokenSource();

        var send = RawClient.PostAsync(client, server, cancellationToken: cancellation.Token);
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        Assert.Equal(1, server.InFlightRequests);
        await cancellation.CancelAsync();

        await Assert.ThrowsAsync<TaskCanceledException>(() => send);
        Assert.True(await Eventually.TrueAsync(() => server.InFlightRequests == 0), "The hanging request is still running.");
    }
}
