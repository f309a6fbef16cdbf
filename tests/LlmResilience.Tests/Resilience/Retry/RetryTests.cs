using System.Diagnostics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Resilience.Retry;

/// <summary>Every retry rule, driven by a real fault over a loopback socket.</summary>
public sealed class RetryTests
{
    private static Dictionary<string, string> Headers(params string[] pairs)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < pairs.Length; i += 2)
        {
            headers[pairs[i]] = pairs[i + 1];
        }

        return headers;
    }

    [Fact]
    public async Task Retry_ResetBeforeHeaders_RetriedAtOnceOnAFreshConnection()
    {
        // The clock never moves: had the pipeline scheduled any backoff, the call could not complete.
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders());
        using var client = TestClients.Chat(server, time: time);

        var completion = await client.CompleteAsync(TestClients.Hello()).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(string.IsNullOrEmpty(completion.Content));
        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal("ResetBeforeHeaders", requests[0].BehaviorName);
        Assert.NotEqual(requests[0].ConnectionId, requests[1].ConnectionId);
        Assert.Equal(requests[0].Body, requests[1].Body);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Retry_AlwaysFailing_MakesExactlyOnePlusMaxRetryAttempts(int maxRetryAttempts)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.EnvoyUpstreamReset();
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = maxRetryAttempts);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ProxyUpstreamFailure, error.Kind);
        Assert.Equal(1 + maxRetryAttempts, error.Attempts);
        Assert.Equal(1 + maxRetryAttempts, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal(server.Requests[0].Body, r.Body));
    }

    [Fact]
    public async Task Retry_CloseBeforeHeaders_Retried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.CloseBeforeHeaders());
        using var client = TestClients.Chat(server);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.NotNull(completion.Content);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Retry_SecondResetBeforeHeaders_BacksOff()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 2);
        using var client = TestClients.Chat(server, time: time);

        var call = client.CompleteAsync(TestClients.Hello());
        await server.WaitForRequestAsync(2, TimeSpan.FromSeconds(5));
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMilliseconds(40));
        Assert.Equal(2, server.Requests.Count);
        time.Advance(TimeSpan.FromMilliseconds(40));
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Retry_RealClock_BackoffGapIsVisibleOnTheServer()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), 2);
        using var client = TestClients.Chat(server, o => { o.BaseDelay = TimeSpan.FromMilliseconds(60); o.MaxDelay = TimeSpan.FromSeconds(1); });

        await client.CompleteAsync(TestClients.Hello());

        var requests = server.Requests;
        Assert.Equal(3, requests.Count);
        Assert.True(requests[1].ElapsedSince(requests[0]) >= TimeSpan.FromMilliseconds(55), $"gap {requests[1].ElapsedSince(requests[0])}");
        Assert.True(requests[2].ElapsedSince(requests[1]) >= TimeSpan.FromMilliseconds(115), $"gap {requests[2].ElapsedSince(requests[1])}");
    }

    [Fact]
    public async Task Retry_ResetOnEveryAttempt_FailsWithResetBeforeHeaders()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.ResetBeforeHeaders();
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 2);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ResetBeforeHeaders, error.Kind);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(3, server.Requests.Count);
        Assert.Contains("reset or closed before a response", error.Message);
        Assert.Contains("timeouts", error.Message);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(409)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    [InlineData(520)]
    [InlineData(521)]
    [InlineData(522)]
    [InlineData(523)]
    [InlineData(524)]
    public async Task Retry_TransientStatus_RetriedThenSucceeds(int status)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(status, """{"error":{"message":"try again","type":"server_error","param":null,"code":null}}"""));
        using var client = TestClients.Chat(server);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.NotNull(completion.Content);
        Assert.Equal(2, server.Requests.Count);
    }

    [Theory]
    [InlineData(400, LlmFailureKind.BadRequest)]
    [InlineData(401, LlmFailureKind.Unauthorized)]
    [InlineData(403, LlmFailureKind.Unauthorized)]
    [InlineData(404, LlmFailureKind.BadRequest)]
    [InlineData(422, LlmFailureKind.BadRequest)]
    public async Task Retry_PermanentStatus_NeverRetried(int status, LlmFailureKind kind)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Status(status, """{"error":{"message":"no","type":"invalid_request_error","param":null,"code":"bad"}}""");
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(kind, error.Kind);
        Assert.Equal(status, (int)error.StatusCode!.Value);
        Assert.Equal(1, error.Attempts);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Retry_429WithRetryAfterMs_WaitsThatLong()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers("retry-after-ms", "150", "Retry-After", "30")));
        using var client = TestClients.Chat(server, o => o.BaseDelay = TimeSpan.FromMilliseconds(10));

        await client.CompleteAsync(TestClients.Hello());

        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        var gap = requests[1].ElapsedSince(requests[0]);
        Assert.InRange(gap, TimeSpan.FromMilliseconds(145), TimeSpan.FromMilliseconds(1500));
    }

    [Fact]
    public async Task Retry_429WithAzureRetryAfterMs_WaitsThatLong()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers("x-ms-retry-after-ms", "120")));
        using var client = TestClients.Chat(server, o => o.BaseDelay = TimeSpan.FromMilliseconds(10));

        await client.CompleteAsync(TestClients.Hello());

        var requests = server.Requests;
        Assert.InRange(requests[1].ElapsedSince(requests[0]), TimeSpan.FromMilliseconds(115), TimeSpan.FromMilliseconds(1500));
    }

    [Fact]
    public async Task Retry_429WithRetryAfterSeconds_SchedulesThatWaitOnTheClock()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers("Retry-After", "7")));
        using var client = TestClients.Chat(server, time: time);

        var call = client.CompleteAsync(TestClients.Hello());
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(7));
        Assert.Single(server.Requests);
        time.Advance(TimeSpan.FromSeconds(7));
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Retry_429WithRetryAfterHttpDate_WaitsUntilThatDate()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers("Retry-After", time.GetUtcNow().AddSeconds(12).ToString("R"))));
        using var client = TestClients.Chat(server, time: time);

        var call = client.CompleteAsync(TestClients.Hello());
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(12));
        time.Advance(TimeSpan.FromSeconds(12));
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Retry_429WithOnlyRateLimitResetHeaders_WaitsForTheBudgetThatRanOut()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers(
            "x-ratelimit-limit-requests", "500", "x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "1.5s",
            "x-ratelimit-limit-tokens", "30000", "x-ratelimit-remaining-tokens", "29000", "x-ratelimit-reset-tokens", "6m0s")));
        using var client = TestClients.Chat(server, time: time);

        var call = client.CompleteAsync(TestClients.Hello());
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMilliseconds(1500));
        time.Advance(TimeSpan.FromMilliseconds(1500));
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Retry_429HintAboveMaxRetryAfter_FailsFastWithRetryAfter()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers("x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "6m0s")));
        using var client = TestClients.Chat(server);
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2));
        Assert.Equal(LlmFailureKind.RateLimited, error.Kind);
        Assert.Equal(TimeSpan.FromMinutes(6), error.RetryAfter);
        Assert.Equal(1, error.Attempts);
        Assert.Equal("rate_limit_exceeded", error.ErrorCode);
        Assert.NotNull(error.RequestId);
        Assert.Contains("MaxRetryAfter", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Retry_503WithLongRetryAfter_FailsFastAndSaysSo()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(503, """{"error":{"message":"maintenance","type":"server_error","param":null,"code":null}}""", Headers("Retry-After", "600")));
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ServerError, error.Kind);
        Assert.Equal(TimeSpan.FromMinutes(10), error.RetryAfter);
        Assert.Contains("MaxRetryAfter", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Retry_429InsufficientQuota_NotRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.InsufficientQuota();
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.QuotaExceeded, error.Kind);
        Assert.Equal("insufficient_quota", error.ErrorCode);
        Assert.False(error.IsTransient);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Retry_429ExhaustsAttempts_FailsWithRateLimited()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.RateLimited(Headers("retry-after-ms", "5"));
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 3);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.RateLimited, error.Kind);
        Assert.Equal(4, error.Attempts);
        Assert.Equal(TimeSpan.FromMilliseconds(5), error.RetryAfter);
        Assert.Equal(4, server.Requests.Count);
    }

    [Fact]
    public async Task Retry_GarbageOrNegativeHints_FallBackToBackoff()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers("retry-after-ms", "-500", "Retry-After", "soon")));
        using var client = TestClients.Chat(server, o => o.BaseDelay = TimeSpan.FromMilliseconds(60));

        await client.CompleteAsync(TestClients.Hello());

        var requests = server.Requests;
        Assert.InRange(requests[1].ElapsedSince(requests[0]), TimeSpan.FromMilliseconds(55), TimeSpan.FromMilliseconds(1500));
    }

    [Fact]
    public async Task Retry_XShouldRetryFalse_OverridesRetryableStatus()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Status(503, """{"error":{"message":"down","type":"server_error","param":null,"code":null}}""", Headers("x-should-retry", "false"));
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ServerError, error.Kind);
        Assert.Single(server.Requests);
        Assert.Contains("x-should-retry", error.Message);
    }

    [Fact]
    public async Task Retry_XShouldRetryTrue_RetriesEvenA400()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(400, """{"error":{"message":"transient","type":"invalid_request_error","param":null,"code":null}}""", Headers("x-should-retry", "true")));
        using var client = TestClients.Chat(server);

        await client.CompleteAsync(TestClients.Hello());

        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Retry_WaitThatWouldOutliveTotalTimeout_FailsFast()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.RateLimited(Headers("retry-after-ms", "20000"));
        using var client = TestClients.Chat(server, o =>
        {
            o.TotalTimeout = TimeSpan.FromSeconds(10);
            o.MaxRetryAfter = TimeSpan.FromSeconds(30);
        });
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        // Had it slept, TotalTimeout would have ended the call as a Timeout after 10 s: the margin is wide on a busy machine.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        Assert.Equal(LlmFailureKind.RateLimited, error.Kind);
        Assert.Equal(TimeSpan.FromSeconds(20), error.RetryAfter);
        Assert.Equal(1, error.Attempts);
        Assert.Contains("would have outlived TotalTimeout", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Retry_ConnectionRefused_FailsWithConnectFailure()
    {
        using var client = TestClients.Chat(FakeLlmServer.GetRefusedAddress(), o => o.MaxRetryAttempts = 2);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ConnectFailure, error.Kind);
        Assert.Equal(3, error.Attempts);
        Assert.Contains("Could not connect", error.Message);
        Assert.Contains("ConnectionRefused", error.Message);
    }

    [Fact]
    public async Task Retry_ConnectTimeout_RetriedThenFailsWithConnectFailure()
    {
        using var endpoint = await UnresponsiveEndpoint.StartAsync();
        using var client = TestClients.Chat(endpoint.BaseAddress, o =>
        {
            o.MaxRetryAttempts = 1;
            o.ConnectTimeout = TimeSpan.FromMilliseconds(100);
        });
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ConnectFailure, error.Kind);
        Assert.Equal(2, error.Attempts);
        Assert.Contains("connect timed out", error.Message);
        Assert.Contains("ConnectTimeout", error.Message);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Retry_EnvoyUpstreamReset_IsProxyUpstreamFailurePointingAtTimeouts()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.EnvoyUpstreamReset();
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 2);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ProxyUpstreamFailure, error.Kind);
        Assert.Equal(503, (int)error.StatusCode!.Value);
        Assert.Equal(3, error.Attempts);
        Assert.Contains("upstream connect error or disconnect/reset before headers", error.Message);
        Assert.Contains("timeout", error.Message);
        Assert.Equal(3, server.Requests.Count);
    }

    [Theory]
    [InlineData(502, "nginx")]
    [InlineData(504, "nginx")]
    [InlineData(522, "cloudflare")]
    [InlineData(524, "cloudflare")]
    public async Task Retry_ProxyErrorPages_AreProxyUpstreamFailures(int status, string proxy)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = status switch
        {
            502 => FakeBehavior.NginxBadGateway(),
            504 => FakeBehavior.NginxGatewayTimeout(),
            _ => FakeBehavior.CloudflareError(status),
        };
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 1);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ProxyUpstreamFailure, error.Kind);
        Assert.Contains(proxy, error.Message);
        Assert.Contains($"{status}", error.Message);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Retry_EveryAttempt_SendsTheSameBodyAndHeaders()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(500), FakeBehavior.CloseBeforeHeaders(), FakeBehavior.ServerError(502));
        using var client = TestClients.Chat(server, o => o.BaseDelay = TimeSpan.FromMilliseconds(5));
        var request = TestClients.Hello("Count to three, slowly: ünïcødé ✓");
        request.Temperature = 0.25f;

        await client.CompleteAsync(request);

        var requests = server.Requests;
        Assert.Equal(4, requests.Count);
        Assert.All(requests, r => Assert.Equal(requests[0].Body, r.Body));
        Assert.All(requests, r => Assert.Equal(requests[0].Headers["Authorization"], r.Headers["Authorization"]));
        Assert.All(requests, r => Assert.True(r.SentApiKey(TestClients.ApiKey), $"Request #{r.Index} did not carry the client's API key."));
        Assert.Contains("ünïcødé ✓", requests[0].Body);
    }

    [Fact]
    public async Task Retry_CallerCancels_SurfacesAsCancellationPromptly_NotRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();
        using var client = TestClients.Chat(server);
        using var cts = new CancellationTokenSource();

        var call = client.CompleteAsync(TestClients.Hello(), cts.Token);
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        var stopwatch = Stopwatch.StartNew();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"took {stopwatch.Elapsed}");
        await Task.Delay(50);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Retry_CallerCancelsDuringBackoff_SurfacesAsCancellation()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.RateLimited(Headers("retry-after-ms", "3000"));
        var time = new ManualTimeProvider();
        using var client = TestClients.Chat(server, time: time);
        using var cts = new CancellationTokenSource();

        var call = client.CompleteAsync(TestClients.Hello(), cts.Token);
        // The 3 s wait (no timeout of the pipeline is 3 s) is scheduled only once the first attempt has ended: the cancel below lands in the backoff.
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(3));
        Assert.Single(server.Requests);
        Assert.False(call.IsCompleted);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(2)));
        Assert.Single(server.Requests);
        Assert.DoesNotContain(TimeSpan.FromSeconds(3), time.PendingTimers());
    }
}
