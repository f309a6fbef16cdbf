using System.Diagnostics;
using System.Globalization;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Testing.Tests;

public sealed class DelayBehaviorTests
{
    [Fact]
    public async Task Delay_ThenOk_HeadersArriveAfterTheDelay()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMilliseconds(100), FakeBehavior.Ok()));
        using var client = RawClient.Create();
        var stopwatch = Stopwatch.StartNew();

        using var response = await RawClient.PostAsync(client, server);

        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(95), $"Headers came after {stopwatch.ElapsedMilliseconds} ms.");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(int.Parse(RawClient.Header(response, "openai-processing-ms"), CultureInfo.InvariantCulture) >= 95);
        Assert.Equal("Delay", Assert.Single(server.Requests).BehaviorName);
    }

    [Fact]
    public async Task Delay_ThenServerError_AnswersAsThen()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMilliseconds(10), FakeBehavior.ServerError(502)));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal(502, (int)response.StatusCode);
    }

    [Fact]
    public async Task Delay_ClientGivesUpFirst_ServerReleasesTheRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMinutes(5), FakeBehavior.Ok()));
        using var client = RawClient.Create();
        using var giveUp = new CancellationTokenSource();

        var send = RawClient.PostAsync(client, server, cancellationToken: giveUp.Token);
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        await giveUp.CancelAsync();

        await Assert.ThrowsAsync<TaskCanceledException>(() => send);
        Assert.True(await Eventually.TrueAsync(() => server.InFlightRequests == 0), "The delayed request is still running.");
    }

    [Fact]
    public void Delay_ToString_NamesTheDelayAndTheNextBehavior()
    {
        var behavior = FakeBehavior.Delay(TimeSpan.FromMilliseconds(150), FakeBehavior.ServerError(503));

        Assert.Equal("Delay", behavior.Name);
        Assert.Equal("Delay(150 ms, then ServerError(503))", behavior.ToString());
    }
}
