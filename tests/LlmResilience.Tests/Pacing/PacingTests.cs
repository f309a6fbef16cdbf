using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Routing;

namespace LlmResilience.Tests.Pacing;

/// <summary>Pacing against a FakeLlmServer that enforces a provider's quota with OpenAI's headers; the clocks are manual.</summary>
public sealed class PacingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task ConfiguredRequestsPerMinute_ABurstGetsNo429_AndTheRateIsTheQuota()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = time, RequestsPerMinute = 600 });
        var endpoint = FailoverTests.Endpoint("paced", server.BaseAddress);
        endpoint.RequestsPerMinute = 600;
        using var client = FailoverTests.Routed([endpoint], SlowClocks, time);

        var calls = Enumerable.Range(0, 60).Select(_ => client.CompleteAsync(TestClients.Hello())).ToArray();
        await DriveAsync(time, calls, server);

        var requests = server.Requests;
        Assert.True(requests.Count == 60, string.Join("\n", requests.Select(r => $"{r.ReceivedAt:ss.fff} {r.BehaviorName}")));
        Assert.DoesNotContain(requests, r => r.BehaviorName == "RateLimited");
        // 10 at once (a second's share), then 10 per second: the last 50 over about 5 s.
        var spread = requests[^1].ReceivedAt - requests[0].ReceivedAt;
        var rate = (requests.Count - 10) / spread.TotalSeconds;
        output.WriteLine($"configured 600 RPM: {requests.Count(r => r.BehaviorName == "RateLimited")} 429s, {rate:0.00} requests/s after the first second's share (quota: 10/s)");
        Assert.InRange(rate, 8.0, 10.5);
    }

    [Fact]
    public async Task NothingConfigured_TheLearnedHeadersCutThe429s_ComparedWithAClientThatDoesNotPace()
    {
        var time = new ManualTimeProvider();
        await using var paced = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = time, RequestsPerMinute = 600 });
        using var client = TestClients.Chat(paced, SlowClocks, time);
        await client.CompleteAsync(TestClients.Hello()); // the first answer carries x-ratelimit-limit-requests: 600

        var calls = Enumerable.Range(0, 60).Select(_ => client.CompleteAsync(TestClients.Hello())).ToArray();
        await DriveAsync(time, calls, paced);
        var ours429 = paced.Requests.Count(r => r.BehaviorName == "RateLimited");

        await using var unpaced = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = time, RequestsPerMinute = 600 });
        using var bare = new HttpClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ =>
            bare.PostAsync(new Uri(unpaced.BaseAddress, "chat/completions"), new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}"""))));
        var bare429 = responses.Count(r => (int)r.StatusCode == 429);

        output.WriteLine($"429s in a burst of 60 against a 600 RPM quota: ours (learned) {ours429}, a client that does not pace {bare429}");
        Assert.True(bare429 >= 45, $"the client without pacing got {bare429} 429s");
        Assert.True(ours429 <= bare429 / 10, $"ours got {ours429} 429s, the client without pacing {bare429}");
        Assert.All(calls, c => Assert.True(c.IsCompletedSuccessfully));
    }

    [Fact]
    public async Task LocalPacing_WaitBeyondMaxRetryAfter_FailsFastWithRateLimited_AndSendsNothing()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = time });
        var endpoint = FailoverTests.Endpoint("one-per-second", server.BaseAddress);
        endpoint.RequestsPerMinute = 60;
        using var client = FailoverTests.Routed([endpoint], o =>
        {
            SlowClocks(o);
            o.MaxRetryAfter = TimeSpan.FromSeconds(2.5);
        }, time);

        var calls = new List<Task<ChatCompletion>>();
        for (var i = 0; i < 5; i++)
        {
            calls.Add(client.CompleteAsync(TestClients.Hello($"call {i}")));
            await Task.Delay(20);
        }

        // Waits of about 1 and 2 s are within MaxRetryAfter; 3 and 4 s are not: those fail at once.
        var refused = await Assert.ThrowsAsync<LlmException>(() => calls[3]);
        Assert.True(calls[4].IsFaulted);
        Assert.Equal(LlmFailureKind.RateLimited, refused.Kind);
        Assert.Equal(0, refused.Attempts);
        Assert.InRange(refused.RetryAfter!.Value, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3.1)); // 3 s, paced 2 % under the limit
        Assert.Contains("paced locally and no request was sent", refused.Message, StringComparison.Ordinal);
        Assert.Contains("60 requests per minute (configured)", refused.Message, StringComparison.Ordinal);

        await DriveAsync(time, calls.Take(3).ToArray(), server);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Queue_IsFirstComeFirstServed_AndACancelledCallLeavesItAtOnce()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = time });
        var endpoint = FailoverTests.Endpoint("one-per-second", server.BaseAddress);
        endpoint.RequestsPerMinute = 60;
        using var client = FailoverTests.Routed([endpoint], SlowClocks, time);
        using var cancelC = new CancellationTokenSource();

        var a = client.CompleteAsync(TestClients.Hello("A"));
        await Task.Delay(20);
        var b = client.CompleteAsync(TestClients.Hello("B"));
        await Task.Delay(20);
        var c = client.CompleteAsync(TestClients.Hello("C"), cancelC.Token);
        await Task.Delay(20);
        var d = client.CompleteAsync(TestClients.Hello("D"));
        await Task.Delay(20);
        cancelC.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.WaitAsync(TimeSpan.FromSeconds(5)));
        await DriveAsync(time, [a, b, d], server);

        var order = server.Requests.Select(r => r.Body.Contains("\"A\"", StringComparison.Ordinal) ? "A" : r.Body.Contains("\"B\"", StringComparison.Ordinal) ? "B" : r.Body.Contains("\"D\"", StringComparison.Ordinal) ? "D" : "?");
        Assert.Equal(["A", "B", "D"], order);
    }

    [Fact]
    public async Task EndpointWithoutBudget_TheCallGoesToOneThatHasIt_WithoutWaiting()
    {
        var time = new ManualTimeProvider();
        await using var limited = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = time });
        await using var open = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = time });
        var first = FailoverTests.Endpoint("limited", limited.BaseAddress);
        first.RequestsPerMinute = 60;
        using var client = FailoverTests.Routed([first, FailoverTests.Endpoint("open", open.BaseAddress, priority: 1)], SlowClocks, time);

        var answers = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add((await client.CompleteAsync(TestClients.Hello()).WaitAsync(TimeSpan.FromSeconds(5))).Endpoint);
        }

        Assert.Equal(["limited", "open", "open"], answers);
        time.Advance(TimeSpan.FromSeconds(1.1));
        Assert.Equal("limited", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
    }

    [Fact]
    public async Task ConfiguredTokensPerMinute_PacesByTheEstimate_AndTheUsageCorrectsIt()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = time });
        var endpoint = FailoverTests.Endpoint("tokens", server.BaseAddress);
        endpoint.TokensPerMinute = 60_000; // a second's share: 1,000 tokens
        using var client = FailoverTests.Routed([endpoint], SlowClocks, time);
        var big = new ChatCompletionRequest([ChatMessage.User("hi")]) { MaxTokens = 600 };

        var first = client.CompleteAsync(big);
        await first.WaitAsync(TimeSpan.FromSeconds(5));
        var second = client.CompleteAsync(big);
        await Task.Delay(50);

        // About 640 tokens estimated each; the fake's usage says far fewer were used, which gives most of them back.
        Assert.True(second.IsCompleted, "the usage of the first call should have returned its unused tokens");
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task ContextPreflight_SkipsAWindowTheRequestClearlyExceeds_AndFailsAtOnceWhenNoneFits()
    {
        await using var small = await FakeLlmServer.StartAsync();
        await using var large = await FakeLlmServer.StartAsync();
        using var client = FailoverTests.Routed([
            FailoverTests.Endpoint("small", small.BaseAddress, window: 1_000),
            FailoverTests.Endpoint("large", large.BaseAddress, priority: 1, window: 32_000),
        ]);
        var longPrompt = new ChatCompletionRequest([ChatMessage.User(new string('x', 20_000))]) { MaxTokens = 100 };
        var hugePrompt = new ChatCompletionRequest([ChatMessage.User(new string('x', 200_000))]) { MaxTokens = 100 };

        Assert.Equal("large", (await client.CompleteAsync(longPrompt)).Endpoint);
        Assert.Empty(small.Requests);

        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(hugePrompt));
        Assert.Equal(LlmFailureKind.ContextLengthExceeded, exception.Kind);
        Assert.Equal(0, exception.Attempts);
        Assert.Contains("more than the largest context window configured (32000 tokens, on large) by about", exception.Message, StringComparison.Ordinal);
        Assert.Single(large.Requests);
    }

    [Fact]
    public async Task SmoothBucket_RefillsContinuously_HoldsOnlyASecondsShare_AndCarriesADebt()
    {
        var time = new ManualTimeProvider();
        var bucket = new SmoothTokenBucket(capacity: 10, perSecond: 10, time);

        Assert.Equal(10, Enumerable.Range(0, 20).Count(_ => bucket.TryTake(1)));
        time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(3, Enumerable.Range(0, 20).Count(_ => bucket.TryTake(1)));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(10, bucket.Available); // never more than a second's share, however long it rested

        bucket.Correct(15); // the answer cost 15 more than was taken: a debt
        Assert.Equal(-5, bucket.Available);
        Assert.Equal(TimeSpan.FromSeconds(0.6), bucket.EstimatedWait(1));
        var waiter = bucket.TakeAsync(1, CancellationToken.None);
        await time.WaitForTimerAsync(_ => true);
        Assert.False(waiter.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(600));
        await waiter.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, bucket.Available, precision: 6); // the debt paid back, then one token taken
        Assert.False(bucket.AttemptAcquire(1).IsAcquired);
    }

    [Fact]
    public async Task SharedBudget_AfterTheProviderSaidUsedUp_WaitsForTheReset_ThenTakesFromTheFleetNotTheLocalBucket()
    {
        // Found by the fleet test (issue 10): after x-ratelimit-remaining: 0 an instance paced on its local bucket, full
        // because the fleet's budget had been used until then, so every instance that saw the zero burst past the fleet.
        var time = new ManualTimeProvider();
        var fleet = new RecordingBudget();
        var pacer = new EndpointPacer(requestsPerMinute: 600, tokensPerMinute: null, time, fleet, "only#fingerprint");
        using var answer = new HttpResponseMessage();
        answer.Headers.TryAddWithoutValidation("x-ratelimit-remaining-requests", "0");
        answer.Headers.TryAddWithoutValidation("x-ratelimit-reset-requests", "500ms");
        pacer.Learn(RateLimitHeaders.TryRead(answer.Headers)!, time.GetUtcNow());

        // Beyond the call's wait: refused with the time to the reset, nothing taken anywhere.
        Assert.Equal(TimeSpan.FromMilliseconds(500), (await pacer.AdmitAsync(0, TimeSpan.FromMilliseconds(100), CancellationToken.None)).Wait);

        var admitted = pacer.AdmitAsync(0, TimeSpan.FromSeconds(10), CancellationToken.None).AsTask();
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMilliseconds(500));
        Assert.False(admitted.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal((null, true), await admitted.WaitAsync(TimeSpan.FromSeconds(5))); // taken from the fleet's budget

        Assert.Equal(1, fleet.Takes);
        Assert.Equal(10, pacer.Requests!.Available, precision: 6); // left full, for when Redis is out
    }

    private sealed class RecordingBudget : ISharedBudget
    {
        private int _takes;

        public int Takes => Volatile.Read(ref _takes);

        public ValueTask<TimeSpan?> TryTakeAsync(string endpointKey, SmoothTokenBucket? requests, SmoothTokenBucket? tokensBucket, int tokens, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _takes);
            return ValueTask.FromResult<TimeSpan?>(TimeSpan.Zero);
        }

        public void Correct(string endpointKey, SmoothTokenBucket tokensBucket, int tokens)
        {
        }
    }

    [Fact]
    public async Task LearnedTokenLimit_UnderAnotherClientWithoutRetries_AStreamedBodyIsStillSentWhole()
    {
        // No retries and no endpoints: the handler does not buffer a stream body. Once a token limit is learned, the
        // token estimate must not read (and so consume) the body that is about to be sent.
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TokensPerMinute = 6_000_000 });
        var (http, _) = TestClients.Pipeline(TestClients.FastResilience(o => o.MaxRetryAttempts = 0));
        using var client = http;
        const string body = """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""";

        for (var i = 0; i < 2; i++)
        {
            using var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body)));
            content.Headers.ContentType = new("application/json");
            using var response = await client.PostAsync(new Uri(server.BaseAddress, "chat/completions"), content);
            Assert.Equal(200, (int)response.StatusCode);
        }

        Assert.All(server.Requests, r => Assert.Equal(body, r.Body));
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":300}""", 300)]
    [InlineData("""{"max_completion_tokens":50,"max_tokens":300}""", 50)]
    [InlineData("""{"messages":[{"max_tokens":9}]}""", null)]
    [InlineData("""not json""", null)]
    public void TokenEstimate_ReadsTheRequestedOutput(string body, int? expected) =>
        Assert.Equal(expected, TokenEstimate.MaxOutputOf(System.Text.Encoding.UTF8.GetBytes(body)));

    private static void SlowClocks(LlmResilienceOptions options)
    {
        // The clock is manual and moves in steps: attempts must not time out while the test drives it.
        options.AttemptTimeout = TimeSpan.FromMinutes(5);
        options.FirstTokenTimeout = TimeSpan.FromMinutes(5);
        options.TotalTimeout = TimeSpan.FromMinutes(10);
    }

    /// <summary>
    /// Moves the manual clock in 50 ms steps until every call has ended (bounded: 60 s of simulated time). Before each
    /// step it waits until the servers have been quiet for 30 ms of real time, so that a request released by the last
    /// step reaches its server at the simulated time it was released, not a few steps later.
    /// </summary>
    private static async Task DriveAsync(ManualTimeProvider time, IReadOnlyList<Task> calls, params FakeLlmServer[] servers)
    {
        for (var step = 0; step < 1200 && !calls.All(c => c.IsCompleted); step++)
        {
            var quiet = 0;
            var seen = -1;
            for (var poll = 0; poll < 500 && quiet < 15; poll++)
            {
                await Task.Delay(2);
                var now = servers.Sum(s => s.Requests.Count) + calls.Count(c => c.IsCompleted);
                quiet = now == seen ? quiet + 1 : 0;
                seen = now;
            }

            time.Advance(TimeSpan.FromMilliseconds(50));
        }

        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
    }
}
