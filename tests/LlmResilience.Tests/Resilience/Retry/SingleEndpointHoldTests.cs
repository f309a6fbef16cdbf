using System.Diagnostics;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Tests.Resilience.Retry;

/// <summary>
/// A client with one endpoint has nowhere to fail over to, but a wait its server asked for still holds every call of the
/// client, not only the call that was told: the next calls wait for it (within MaxRetryAfter and the deadline) or fail at
/// once, sending nothing. Real 429s over a socket.
/// </summary>
public sealed class SingleEndpointHoldTests
{
    [Fact]
    public async Task RetryAfterOnOneCall_TheNextCallWaitsForItBeforeSending()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "400" }));
        var logs = new CapturingLoggerProvider();
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 0, loggerFactory: logs);

        var told = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));
        Assert.Equal(LlmFailureKind.RateLimited, told.Kind);

        var started = Stopwatch.StartNew();
        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal(2, server.Requests.Count);
        Assert.NotNull(completion.Content);
        // The second request reached the server only once the wait the 429 asked for was over (less the time the first
        // call took to fail), never at once, as it did before.
        Assert.True(server.Requests[1].ElapsedSince(server.Requests[0]) >= TimeSpan.FromMilliseconds(380),
            $"the second request came {server.Requests[1].ElapsedSince(server.Requests[0]).TotalMilliseconds:0} ms after the 429");
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(300), $"the second call took {started.Elapsed.TotalMilliseconds:0} ms");
        var waiting = Assert.Single(logs.Entries, e => e.EventId.Name == "WaitingForEndpoint");
        Assert.Contains("cooling down", waiting.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderAnotherClient_EachHostIsHeldOnItsOwn_AsCallsAlternateBetweenThem()
    {
        await using var a = await FakeLlmServer.StartAsync();
        await using var b = await FakeLlmServer.StartAsync();
        a.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "400" }));
        var (http, _) = TestClients.Pipeline(TestClients.FastResilience(o => o.MaxRetryAttempts = 0));
        using var client = http;
        Task<HttpResponseMessage> Post(FakeLlmServer server) => client.PostAsync(new Uri(server.BaseAddress, "chat/completions"),
            new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"));

        using (var told = await Post(a))
        {
            Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, told.StatusCode);
        }

        // The handler keeps the last host it saw: b is another host (held by nothing), then a again (still held).
        var started = Stopwatch.StartNew();
        using (var other = await Post(b))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, other.StatusCode);
        }

        Assert.True(started.Elapsed < TimeSpan.FromMilliseconds(300), $"the call to the other host took {started.Elapsed.TotalMilliseconds:0} ms");
        using (var again = await Post(a))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, again.StatusCode);
        }

        Assert.Equal(2, a.Requests.Count);
        Assert.True(a.Requests[1].ElapsedSince(a.Requests[0]) >= TimeSpan.FromMilliseconds(380),
            $"the second request to the held host came {a.Requests[1].ElapsedSince(a.Requests[0]).TotalMilliseconds:0} ms after its 429");
    }

    [Fact]
    public async Task RetryAfterOnOneCall_CallsStartedMeanwhileAreHeldTooAndAllSucceed()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "300" }));
        var logs = new CapturingLoggerProvider();
        using var client = TestClients.Chat(server, loggerFactory: logs);

        var first = client.CompleteAsync(TestClients.Hello());
        // The first call has its 429 and waits to retry: the endpoint is held from now on.
        Assert.True(await Eventually.TrueAsync(() => logs.Entries.Any(e => e.EventId.Name == "Retrying"), TimeSpan.FromSeconds(5)));
        var others = Enumerable.Range(0, 5).Select(_ => client.CompleteAsync(TestClients.Hello())).ToArray();
        await first;
        await Task.WhenAll(others);

        // One 429 and six answers: none of the calls started during the wait went out before it ended.
        Assert.Equal(7, server.Requests.Count);
        var rateLimited = server.Requests[0];
        Assert.All(server.Requests.Skip(1), r => Assert.True(r.ElapsedSince(rateLimited) >= TimeSpan.FromMilliseconds(280),
            $"a request came {r.ElapsedSince(rateLimited).TotalMilliseconds:0} ms after the 429"));
    }

    [Fact]
    public async Task HintBeyondMaxRetryAfter_FailsTheCallThatWasTold_ButDoesNotHoldTheNext()
    {
        // A hint beyond MaxRetryAfter ends the call at once, with RetryAfter for its caller to honour; it does not hold
        // the client's other calls for longer than the client would ever wait.
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "600" }));
        using var client = TestClients.Chat(server, o => o.MaxRetryAfter = TimeSpan.FromSeconds(10));

        var told = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));
        Assert.Equal(LlmFailureKind.RateLimited, told.Kind);
        Assert.Equal(TimeSpan.FromSeconds(600), told.RetryAfter);

        var started = Stopwatch.StartNew();
        await client.CompleteAsync(TestClients.Hello());

        Assert.Equal(2, server.Requests.Count);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task HoldBeyondTheDeadline_FailsAtOnceWithoutSending()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "5" }));
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 0);
        await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        var started = Stopwatch.StartNew();
        var held = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello(),
            new LlmRequestOptions { TotalTimeout = TimeSpan.FromSeconds(2) }, CancellationToken.None));

        Assert.Single(server.Requests);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"took {started.Elapsed}");
        Assert.Equal(LlmFailureKind.RateLimited, held.Kind);
        Assert.Contains("deadline", held.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetryAfterForOneModel_ACallForAnotherModelGoesAtOnce_OneForTheSameModelIsHeld()
    {
        // Providers limit per model: a 429 for one model says nothing about another served by the same key.
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "5" }));
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 0);
        await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("a")]) { Model = "big-model" }));

        var started = Stopwatch.StartNew();
        await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("b")]) { Model = "small-model" });
        var held = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("c")]) { Model = "big-model" },
            new LlmRequestOptions { TotalTimeout = TimeSpan.FromSeconds(2) }, CancellationToken.None));

        Assert.Equal(2, server.Requests.Count); // the 429 and the other model's answer; nothing more for the held model
        Assert.Contains("small-model", server.Requests[1].Body, StringComparison.Ordinal);
        Assert.Equal(LlmFailureKind.RateLimited, held.Kind);
        Assert.Contains("no request was sent", held.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task SuccessForTheHeldModel_AfterAnotherModelsSuccess_StillClearsTheHold()
    {
        // A call for the held model that was already under way when the 429 came answers during the wait: that answer
        // clears the hold, even though another model's answer reset the endpoint's failure count in between.
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(
            FakeBehavior.Delay(TimeSpan.FromMilliseconds(400), FakeBehavior.Ok()),
            FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "5" }));
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 0);
        ChatCompletionRequest Big() => new([ChatMessage.User("big")]) { Model = "big-model" };

        var underWay = client.CompleteAsync(Big());
        Assert.True(await Eventually.TrueAsync(() => server.Requests.Count == 1, TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(Big())); // the 429: big-model held for 5 s
        await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("small")]) { Model = "small-model" });
        await underWay; // big-model answers during the wait

        var started = Stopwatch.StartNew();
        await client.CompleteAsync(Big());

        Assert.Equal(4, server.Requests.Count);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"the next big-model call was held for {started.Elapsed}");
    }

    [Fact]
    public async Task SuccessAfterTheWait_ClearsTheHold_LaterCallsGoAtOnce()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "150" }));
        using var client = TestClients.Chat(server);

        await client.CompleteAsync(TestClients.Hello()); // the 429, then the answer after 150 ms
        var started = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            await client.CompleteAsync(TestClients.Hello());
        }

        Assert.Equal(7, server.Requests.Count);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"five calls took {started.Elapsed}");
    }
}
