using System.Diagnostics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Routing;
using LlmResilience.Tests.Shared;
using Microsoft.Extensions.Options;

namespace LlmResilience.Tests.Resilience.Hedging;

/// <summary>Hedging over real sockets: a slow attempt is raced by one more; the first answer wins, the other is cancelled.</summary>
public sealed class HedgingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task SlowPrimary_TheHedgeWins_AndThePrimaryIsCancelledOnTheServer()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server, o => o.HedgingDelay = TimeSpan.FromMilliseconds(150));
        await client.CompleteAsync(TestClients.Hello()); // warm: the figure below is the hedge, not the first call's start-up
        server.Reset();
        server.Enqueue(FakeBehavior.Delay(Slow, FakeBehavior.Ok("slow")), FakeBehavior.Ok("fast"));

        var stopwatch = Stopwatch.StartNew();
        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("fast", completion.Content);
        output.WriteLine($"hedge arrived {server.Requests[1].ElapsedSince(server.Requests[0]).TotalMilliseconds:0} ms after the primary");
        output.WriteLine($"completion: hedged after 150 ms against a primary that answers in 3 s: {stopwatch.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
        Assert.Equal(2, server.Requests.Count);
        // The hedge starts HedgingDelay after the attempt did (the first request reaches the server a little after that).
        Assert.True(server.Requests[1].ElapsedSince(server.Requests[0]) >= TimeSpan.FromMilliseconds(75), $"{server.Requests[1].ElapsedSince(server.Requests[0])}");
        Assert.True(await Eventually.TrueAsync(() => server.Requests[0].ClientAborted), "the losing attempt was not cancelled on the server");
    }

    [Fact]
    public async Task SlowFirstToken_TheHedgedStreamWins_WithItsWholeText()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(Slow, FakeBehavior.OkStream(["never ", "seen"])), FakeBehavior.OkStream(["quick ", "tokens"]));
        using var client = TestClients.Chat(server, o => o.HedgingDelay = TimeSpan.FromMilliseconds(150));

        var stopwatch = Stopwatch.StartNew();
        var text = new System.Text.StringBuilder();
        await foreach (var chunk in client.StreamAsync(TestClients.Hello()))
        {
            text.Append(chunk.ContentDelta);
        }

        Assert.Equal("quick tokens", text.ToString());
        output.WriteLine($"stream: hedged after 150 ms against a first token at 3 s: {stopwatch.Elapsed.TotalMilliseconds:0} ms to the end of the stream");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
        Assert.True(await Eventually.TrueAsync(() => server.Requests[0].ClientAborted), "the losing stream was not cancelled on the server");
    }

    [Fact]
    public async Task SeveralEndpoints_TheHedgeGoesToAnotherOne()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.Delay(Slow, FakeBehavior.Ok());
        using var client = FailoverTests.Routed([FailoverTests.Endpoint("primary", primary.BaseAddress), FailoverTests.Endpoint("secondary", secondary.BaseAddress, priority: 1)],
            o => o.HedgingDelay = TimeSpan.FromMilliseconds(150));

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("secondary", completion.Endpoint);
        Assert.Single(primary.Requests);
        Assert.Single(secondary.Requests);
        Assert.True(await Eventually.TrueAsync(() => primary.Requests[0].ClientAborted));
    }

    [Fact]
    public async Task HedgeFails_ThePrimaryStillAnswers()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMilliseconds(500), FakeBehavior.Ok("primary")), FakeBehavior.Status(400, """{"error":{"message":"bad","type":"invalid_request_error","code":null}}"""));
        using var client = TestClients.Chat(server, o => o.HedgingDelay = TimeSpan.FromMilliseconds(100));

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("primary", completion.Content);
        Assert.Equal(2, server.Requests.Count);
        Assert.False(server.Requests[0].ClientAborted);
    }

    [Fact]
    public async Task HedgingOff_ASlowAttemptIsWaitedFor_WithOneRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMilliseconds(400), FakeBehavior.Ok("slow")));
        using var client = TestClients.Chat(server);

        var stopwatch = Stopwatch.StartNew();
        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("slow", completion.Content);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(390));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task AtMostOneHedgePerCall_ByDefault()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Delay(TimeSpan.FromMilliseconds(600), FakeBehavior.Ok());
        using var client = TestClients.Chat(server, o => o.HedgingDelay = TimeSpan.FromMilliseconds(100));

        await client.CompleteAsync(TestClients.Hello());

        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public void HedgingDelay_NotBelowAttemptTimeout_IsRefusedAtStartUp()
    {
        var options = new LlmClientOptions { BaseAddress = new Uri("http://127.0.0.1:1/v1/"), Model = "m" };
        options.Resilience.AttemptTimeout = TimeSpan.FromSeconds(30);
        options.Resilience.HedgingDelay = TimeSpan.FromSeconds(30);
        options.Resilience.MaxHedgedAttempts = 5;

        var exception = Assert.Throws<OptionsValidationException>(() => ChatCompletionsClient.Create(options));

        Assert.Contains(exception.Failures, f => f.StartsWith("Resilience.HedgingDelay is 00:00:30: use 10 ms or more and less than AttemptTimeout", StringComparison.Ordinal));
        Assert.Contains(exception.Failures, f => f.StartsWith("Resilience.MaxHedgedAttempts is 5", StringComparison.Ordinal));
    }
}
