using System.Diagnostics;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.AspNetCore.Http;

namespace LlmResilience.Tests.Routing;

/// <summary>Several endpoints over real sockets: what the caller sees, and what each server saw.</summary>
public sealed class FailoverTests
{
    private const string KeyA = "sk-endpoint-A-1111111111";
    private const string KeyB = "sk-endpoint-B-2222222222";

    [Fact]
    public async Task RefusedPrimary_TheSecondaryAnswersAtOnce_FailoverIsNotBackoff()
    {
        await using var secondary = await FakeLlmServer.StartAsync();
        var refused = FakeLlmServer.GetRefusedAddress();
        // A backoff of 3 s would show: failover must not wait for it.
        using var client = Routed([Endpoint("primary", refused), Endpoint("secondary", secondary.BaseAddress, priority: 1)], o =>
        {
            o.BaseDelay = TimeSpan.FromSeconds(3);
            o.MaxDelay = TimeSpan.FromSeconds(3);
        });

        var stopwatch = Stopwatch.StartNew();
        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
        Assert.Equal("secondary", completion.Endpoint);
        Assert.Single(secondary.Requests);
    }

    [Fact]
    public async Task RateLimitedPrimary_RetryAfter30_SecondaryAnswers_PrimarySeesNothingDuringItsCooldown()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "30" }));
        var time = new ManualTimeProvider();
        using var client = Routed([Endpoint("primary", primary.BaseAddress), Endpoint("secondary", secondary.BaseAddress, priority: 1)], time: time);

        var stopwatch = Stopwatch.StartNew();
        var first = await client.CompleteAsync(TestClients.Hello());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"took {stopwatch.Elapsed}");
        Assert.Equal("secondary", first.Endpoint);
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(9));
            Assert.Equal("secondary", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        }

        Assert.Single(primary.Requests);
        time.Advance(TimeSpan.FromSeconds(4)); // 31 s after the 429: the cooldown is over

        Assert.Equal("primary", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Equal(2, primary.Requests.Count);
        Assert.Equal(4, secondary.Requests.Count);
    }

    [Fact]
    public async Task InsufficientQuotaOnOneKeyOfTwo_TheOtherKeyTakesTheCalls_AndTheKeyIsSidelinedForTheCooldown()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = QuotaExhaustedFor(KeyA);
        var time = new ManualTimeProvider();
        using var logs = new CapturingLoggerProvider();
        using var client = Routed([Endpoint("key-a", server.BaseAddress, key: KeyA), Endpoint("key-b", server.BaseAddress, key: KeyB, priority: 1)],
            o => o.QuotaExceededCooldown = TimeSpan.FromMinutes(5), time, logs);

        for (var i = 0; i < 6; i++)
        {
            time.Advance(TimeSpan.FromSeconds(20));
            Assert.Equal("key-b", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        }

        var requests = server.Requests;
        Assert.Equal(1, requests.Count(r => r.SentApiKey(KeyA)));
        Assert.Equal(6, requests.Count(r => r.SentApiKey(KeyB)));
        var sidelined = Assert.Single(logs.Entries, e => e.EventId.Name == "KeySidelined");
        Assert.Equal(8, sidelined.EventId.Id);
        Assert.Contains("key-a", sidelined.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyA, logs.AllText(), StringComparison.Ordinal);

        time.Advance(TimeSpan.FromMinutes(4)); // past the 5-minute cooldown: key-a is probed again (and refused again)
        Assert.Equal("key-b", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Equal(2, server.Requests.Count(r => r.SentApiKey(KeyA)));
        Assert.Single(logs.Entries, e => e.EventId.Name == "KeySidelined");
    }

    [Fact]
    public async Task UnauthorizedKey_IsSidelinedLoudlyOnce_ThenProbedAfterBreakDuration_AndRestoredWhenItWorks()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var keyAWorks = false;
        server.DefaultBehavior = FakeBehavior.Custom("KeyA401", async (http, ct) =>
        {
            if (!keyAWorks && http.Request.Headers.Authorization.ToString() == "Bearer " + KeyA)
            {
                http.Response.StatusCode = 401;
                await http.Response.WriteAsync("""{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}""", ct);
                return;
            }

            await WriteOkAsync(http, ct);
        });
        var time = new ManualTimeProvider();
        using var logs = new CapturingLoggerProvider();
        using var client = Routed([Endpoint("key-a", server.BaseAddress, key: KeyA), Endpoint("key-b", server.BaseAddress, key: KeyB, priority: 1)],
            o => o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30), time, logs);

        Assert.Equal("key-b", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Equal("key-b", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal("key-b", (await client.CompleteAsync(TestClients.Hello())).Endpoint); // the probe is refused again
        Assert.Equal(2, server.Requests.Count(r => r.SentApiKey(KeyA)));
        var sidelined = Assert.Single(logs.Entries, e => e.EventId.Name == "KeySidelined");
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, sidelined.Level);

        keyAWorks = true;
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal("key-a", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Equal("key-a", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Single(logs.Entries, e => e.EventId.Name == "KeyRestored");
    }

    [Fact]
    public async Task HangingPrimary_TheAttemptTimesOut_AndTheSecondaryAnswers()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.Hang();
        using var client = Routed([Endpoint("primary", primary.BaseAddress), Endpoint("secondary", secondary.BaseAddress, priority: 1)],
            o => o.AttemptTimeout = TimeSpan.FromMilliseconds(300));

        var stopwatch = Stopwatch.StartNew();
        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("secondary", completion.Endpoint);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
        Assert.Single(primary.Requests);
        Assert.Single(secondary.Requests);
    }

    [Fact]
    public async Task FailingPrimary_BreakerOpens_ThenAProbeAfterBreakDurationBringsTrafficBack()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.ServerError(503);
        var time = new ManualTimeProvider();
        using var logs = new CapturingLoggerProvider();
        using var client = Routed([Endpoint("primary", primary.BaseAddress), Endpoint("secondary", secondary.BaseAddress, priority: 1)],
            o => o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(15), time, logs);

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("secondary", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        // Three failures in a row opened the breaker: the last three calls went straight to the secondary.
        Assert.Equal(3, primary.Requests.Count);
        Assert.Equal(6, secondary.Requests.Count);
        Assert.Single(logs.Entries, e => e.EventId.Name == "BreakerOpened" && e.Message.Contains("primary", StringComparison.Ordinal));

        primary.DefaultBehavior = FakeBehavior.Ok();
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("primary", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Equal("primary", (await client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Single(logs.Entries, e => e.EventId.Name == "BreakerClosed");
        Assert.Equal(6, secondary.Requests.Count);
    }

    [Fact]
    public async Task WeightsThreeToOne_WithinATier_SplitTheCallsThreeToOne()
    {
        await using var heavy = await FakeLlmServer.StartAsync();
        await using var light = await FakeLlmServer.StartAsync();
        var random = new Random(20261130);
        using var client = Routed([Endpoint("heavy", heavy.BaseAddress, weight: 3), Endpoint("light", light.BaseAddress, weight: 1)],
            o => o.Randomizer = random.NextDouble);

        const int calls = 400;
        for (var i = 0; i < calls; i++)
        {
            await client.CompleteAsync(TestClients.Hello());
        }

        var share = heavy.Requests.Count / (double)calls;
        Assert.InRange(share, 0.69, 0.81);
        Assert.Equal(calls, heavy.Requests.Count + light.Requests.Count);
    }

    [Fact]
    public async Task ModelFallback_TheFallbackEndpointsRequestCarriesItsModel()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var fallback = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.ServerError(503);
        using var client = Routed([Endpoint("gpt-big", primary.BaseAddress), Endpoint("gpt-small", fallback.BaseAddress, priority: 1, model: "small-model")]);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("gpt-small", completion.Endpoint);
        Assert.Contains("\"model\":\"test-model\"", primary.Requests[0].Body, StringComparison.Ordinal);
        Assert.Contains("\"model\":\"small-model\"", Assert.Single(fallback.Requests).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContextLengthExceeded_MovesOnlyToALargerWindow()
    {
        await using var small = await FakeLlmServer.StartAsync();
        await using var smaller = await FakeLlmServer.StartAsync();
        await using var large = await FakeLlmServer.StartAsync();
        small.DefaultBehavior = FakeBehavior.ContextLengthExceeded();
        using var client = Routed([
            Endpoint("small", small.BaseAddress, window: 8_000),
            Endpoint("smaller", smaller.BaseAddress, priority: 1, window: 4_000),
            Endpoint("large", large.BaseAddress, priority: 2, window: 128_000, model: "long-model"),
        ]);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("large", completion.Endpoint);
        Assert.Empty(smaller.Requests);
        Assert.Contains("\"model\":\"long-model\"", Assert.Single(large.Requests).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContextLengthExceeded_NoLargerWindow_FailsWithoutTryingTheOthers()
    {
        await using var large = await FakeLlmServer.StartAsync();
        await using var small = await FakeLlmServer.StartAsync();
        large.DefaultBehavior = FakeBehavior.ContextLengthExceeded();
        using var client = Routed([Endpoint("large", large.BaseAddress, window: 128_000), Endpoint("small", small.BaseAddress, priority: 1, window: 8_000)]);

        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ContextLengthExceeded, exception.Kind);
        Assert.Equal("large", exception.Endpoint);
        Assert.Equal(1, exception.Attempts);
        Assert.Empty(small.Requests);
    }

    [Fact]
    public async Task PlainBadRequest_IsTheRequestsFault_NoFailover()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.Status(400, """{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","code":null}}""");
        using var client = Routed([Endpoint("primary", primary.BaseAddress), Endpoint("secondary", secondary.BaseAddress, priority: 1)]);

        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.BadRequest, exception.Kind);
        Assert.Equal("primary", exception.Endpoint);
        Assert.Empty(secondary.Requests);
    }

    [Fact]
    public async Task Stream_FailingBeforeItsFirstEvent_FailsOver_AfterIt_DoesNot()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.Enqueue(FakeBehavior.StreamResetAfter(0), FakeBehavior.StreamResetAfter(2));
        using var client = Routed([Endpoint("primary", primary.BaseAddress), Endpoint("secondary", secondary.BaseAddress, priority: 1)]);

        var text = string.Concat(await ChunksAsync(client));
        Assert.Equal("Hello from FakeLlmServer.", text);
        Assert.Single(secondary.Requests);

        var broken = await Assert.ThrowsAsync<LlmException>(() => ChunksAsync(client));
        Assert.Equal(LlmFailureKind.StreamInterrupted, broken.Kind);
        Assert.Equal("primary", broken.Endpoint);
        Assert.Single(secondary.Requests);
    }

    [Fact]
    public async Task EveryEndpointDown_TheNextCallFailsFastWithCircuitOpen_NamingEachEndpoint()
    {
        await using var a = await FakeLlmServer.StartAsync();
        await using var b = await FakeLlmServer.StartAsync();
        a.DefaultBehavior = FakeBehavior.ServerError(503);
        b.DefaultBehavior = FakeBehavior.NginxBadGateway();
        using var client = Routed([Endpoint("region-a", a.BaseAddress), Endpoint("region-b", b.BaseAddress)], o =>
        {
            o.MaxRetryAttempts = 8;
            o.BaseDelay = TimeSpan.FromMilliseconds(1);
            o.MaxDelay = TimeSpan.FromMilliseconds(5);
            o.MaxRetryAfter = TimeSpan.FromSeconds(5);
            o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        });

        var first = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));
        Assert.Equal(6, first.Attempts); // three each: both breakers opened
        Assert.Contains("region-a: HTTP 503", first.Message, StringComparison.Ordinal);
        Assert.Contains("region-b: HTTP 502", first.Message, StringComparison.Ordinal);
        // Neither failure is about a key: the kind is the latest endpoint's (the order within a tier is random).
        Assert.Contains(first.Kind, new[] { LlmFailureKind.ServerError, LlmFailureKind.ProxyUpstreamFailure });
        Assert.Equal(first.Endpoint == "region-a" ? LlmFailureKind.ServerError : LlmFailureKind.ProxyUpstreamFailure, first.Kind);

        var sent = a.Requests.Count + b.Requests.Count;
        var stopwatch = Stopwatch.StartNew();
        var open = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"took {stopwatch.Elapsed}");
        Assert.Equal(LlmFailureKind.CircuitOpen, open.Kind);
        Assert.Equal(0, open.Attempts);
        Assert.InRange(open.RetryAfter!.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        Assert.Contains("region-a: circuit open", open.Message, StringComparison.Ordinal);
        Assert.Contains("region-b: circuit open", open.Message, StringComparison.Ordinal);
        Assert.Equal(sent, a.Requests.Count + b.Requests.Count);
        Assert.True(open.IsTransient);
    }

    [Fact]
    public async Task EveryEndpointCoolingDown_WithinMaxRetryAfter_TheCallWaitsForTheFirstToComeBack()
    {
        await using var a = await FakeLlmServer.StartAsync();
        await using var b = await FakeLlmServer.StartAsync();
        a.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after"] = "20" }));
        b.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after"] = "10" }));
        var time = new ManualTimeProvider();
        using var client = Routed([Endpoint("a", a.BaseAddress), Endpoint("b", b.BaseAddress, priority: 1)], time: time);

        var call = client.CompleteAsync(TestClients.Hello());
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(10));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(10));
        var completion = await call.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("b", completion.Endpoint);
        Assert.Single(a.Requests);
        Assert.Equal(2, b.Requests.Count);
    }

    [Fact]
    public async Task Storm_OneEndpointOfThreeWith30PercentFaults_EveryCallSucceeds_WithAboutOneAttemptPerCall()
    {
        await using var flaky = await FakeLlmServer.StartAsync();
        await using var b = await FakeLlmServer.StartAsync();
        await using var c = await FakeLlmServer.StartAsync();
        var faults = new Random(7);
        var faultsLock = new Lock();
        flaky.DefaultBehavior = FakeBehavior.Custom("Flaky", async (http, ct) =>
        {
            int roll;
            lock (faultsLock)
            {
                roll = faults.Next(10);
            }

            if (roll < 3)
            {
                http.Response.StatusCode = 503;
                await http.Response.WriteAsync("""{"error":{"message":"overloaded","type":"server_error","code":null}}""", ct);
                return;
            }

            await WriteOkAsync(http, ct);
        });
        using var client = Routed([Endpoint("flaky", flaky.BaseAddress), Endpoint("b", b.BaseAddress), Endpoint("c", c.BaseAddress)]);

        const int calls = 300;
        var results = await Task.WhenAll(Enumerable.Range(0, calls).Select(async _ =>
        {
            await Task.Yield();
            return await client.CompleteAsync(TestClients.Hello());
        }));

        Assert.All(results, r => Assert.Equal("Hello from FakeLlmServer.", r.Content));
        var attempts = flaky.Requests.Count + b.Requests.Count + c.Requests.Count;
        Assert.InRange(attempts / (double)calls, 1.0, 1.2);
        Assert.True(flaky.Requests.Count > calls / 10, $"the flaky endpoint took {flaky.Requests.Count} of {calls}");
    }

    [Fact]
    public async Task Keys_StayWithTheirEndpoint_AndNeverAppearInTheException()
    {
        await using var a = await FakeLlmServer.StartAsync();
        await using var b = await FakeLlmServer.StartAsync();
        a.DefaultBehavior = FakeBehavior.ServerError(500);
        b.DefaultBehavior = FakeBehavior.Unauthorized();
        using var logs = new CapturingLoggerProvider();
        // Three attempts (a, b, a): a fourth would find a's breaker open after its third failure in a row and wait out its
        // 15 s break, which this test is not about.
        using var client = Routed([Endpoint("a", a.BaseAddress, key: KeyA), Endpoint("b", b.BaseAddress, key: KeyB, priority: 1)], o => o.MaxRetryAttempts = 2, logs: logs);

        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(3, exception.Attempts);
        Assert.Equal(2, a.Requests.Count);
        Assert.Single(b.Requests);
        Assert.All(a.Requests, r => Assert.True(r.SentApiKey(KeyA)));
        Assert.All(b.Requests, r => Assert.True(r.SentApiKey(KeyB)));
        Assert.DoesNotContain(a.Requests.Concat(b.Requests), r => r.SentApiKey(TestClients.ApiKey));
        Assert.Equal(LlmFailureKind.ServerError, exception.Kind); // one rejected key says less than the other endpoint's failure
        Assert.Contains("a: HTTP 500", exception.Message, StringComparison.Ordinal);
        Assert.Contains("b: HTTP 401", exception.Message, StringComparison.Ordinal);
        foreach (var text in new[] { exception.ToString(), logs.AllText() })
        {
            Assert.DoesNotContain(KeyA, text, StringComparison.Ordinal);
            Assert.DoesNotContain(KeyB, text, StringComparison.Ordinal);
            Assert.DoesNotContain(TestClients.ApiKey, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryEndpointOutOfQuota_KindIsQuotaExceeded()
    {
        await using var a = await FakeLlmServer.StartAsync();
        await using var b = await FakeLlmServer.StartAsync();
        a.DefaultBehavior = FakeBehavior.InsufficientQuota();
        b.DefaultBehavior = FakeBehavior.InsufficientQuota();
        using var client = Routed([Endpoint("a", a.BaseAddress), Endpoint("b", b.BaseAddress, priority: 1)]);

        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.QuotaExceeded, exception.Kind);
        Assert.Equal(2, exception.Attempts);
        Assert.Equal("b", exception.Endpoint);
        Assert.Contains("Every endpoint's key is out of quota", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailoverLog_NamesBothEndpoints_WithAStableEventId()
    {
        await using var a = await FakeLlmServer.StartAsync();
        await using var b = await FakeLlmServer.StartAsync();
        a.Enqueue(FakeBehavior.ServerError(503));
        using var logs = new CapturingLoggerProvider();
        using var client = Routed([Endpoint("east", a.BaseAddress), Endpoint("west", b.BaseAddress, priority: 1)], logs: logs);

        await client.CompleteAsync(TestClients.Hello());

        var entry = Assert.Single(logs.Entries, e => e.EventId.Id == 5);
        Assert.Equal("FailingOver", entry.EventId.Name);
        Assert.Contains("attempt 1 to endpoint east failed (HTTP 503", entry.Message, StringComparison.Ordinal);
        Assert.Contains("failing over to endpoint west", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeyHeaderStyle_AndTheBaseAddressQuery_AreSentAsAzureExpects()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var azureLike = new Uri(server.BaseAddress, "?api-version=2025-04-01-preview");
        var endpoint = Endpoint("azure", azureLike, key: KeyA);
        endpoint.ApiKeyStyle = LlmApiKeyStyle.ApiKeyHeader;
        using var client = Routed([endpoint]);

        await client.CompleteAsync(TestClients.Hello());

        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("?api-version=2025-04-01-preview", request.Query);
        Assert.Equal("[redacted]", request.Headers["api-key"]);
        Assert.False(request.Headers.ContainsKey("Authorization"));
        Assert.True(request.SentApiKey(KeyA));
    }

    [Fact]
    public void AzureHosts_GetTheApiKeyHeader_UnlessTheKeyComesFromAProvider()
    {
        Assert.Equal("api-key", EndpointTargets.HeaderFor(LlmApiKeyStyle.Auto, new Uri("https://r.openai.azure.com/openai/v1/"), fromProvider: false));
        Assert.Equal("api-key", EndpointTargets.HeaderFor(LlmApiKeyStyle.Auto, new Uri("https://r.cognitiveservices.azure.com/openai/v1/"), fromProvider: false));
        Assert.Equal("api-key", EndpointTargets.HeaderFor(LlmApiKeyStyle.Auto, new Uri("https://r.services.ai.azure.com/openai/v1/"), fromProvider: false));
        Assert.Equal("Authorization", EndpointTargets.HeaderFor(LlmApiKeyStyle.Auto, new Uri("https://r.openai.azure.com/openai/v1/"), fromProvider: true));
        Assert.Equal("Authorization", EndpointTargets.HeaderFor(LlmApiKeyStyle.Auto, new Uri("https://api.openai.com/v1/"), fromProvider: false));
        Assert.Equal("Authorization", EndpointTargets.HeaderFor(LlmApiKeyStyle.Bearer, new Uri("https://r.openai.azure.com/openai/v1/"), fromProvider: false));
    }

    [Fact]
    public async Task ApiKeyProvider_IsCalledPerAttempt_AndItsTokenIsSentAsBearer()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503));
        var calls = 0;
        var endpoint = Endpoint("entra", server.BaseAddress);
        endpoint.ApiKeyProvider = _ => new ValueTask<string>($"token-{Interlocked.Increment(ref calls)}");
        using var client = Routed([endpoint]);

        await client.CompleteAsync(TestClients.Hello());

        Assert.Equal(2, calls);
        Assert.True(server.Requests[0].SentApiKey("token-1"));
        Assert.True(server.Requests[1].SentApiKey("token-2"));
    }

    [Fact]
    public async Task ApiKeyProviderThatThrows_FailsOverToAnotherEndpoint()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var broken = Endpoint("vault", server.BaseAddress);
        broken.ApiKeyProvider = _ => throw new InvalidOperationException("vault unreachable");
        using var client = Routed([broken, Endpoint("static", server.BaseAddress, key: KeyB, priority: 1)]);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("static", completion.Endpoint);
        Assert.True(Assert.Single(server.Requests).SentApiKey(KeyB));
    }

    internal static LlmEndpoint Endpoint(string name, Uri baseAddress, int priority = 0, int weight = 1, string? key = null, string? model = null, int? window = null) => new()
    {
        Name = name,
        BaseAddress = baseAddress,
        Priority = priority,
        Weight = weight,
        ApiKey = key,
        Model = model,
        ContextWindowTokens = window,
    };

    internal static ChatCompletionsClient Routed(IReadOnlyList<LlmEndpoint> endpoints, Action<LlmResilienceOptions>? configure = null, TimeProvider? time = null,
        CapturingLoggerProvider? logs = null)
    {
        var options = new LlmClientOptions
        {
            BaseAddress = endpoints[0].BaseAddress,
            ApiKey = TestClients.ApiKey,
            Model = "test-model",
            Resilience = TestClients.FastResilience(configure),
        };
        foreach (var endpoint in endpoints)
        {
            options.Endpoints.Add(endpoint);
        }

        return ChatCompletionsClient.Create(options, logs, time);
    }

    /// <summary>One server, two keys: the account behind <paramref name="key"/> is out of quota, the other answers.</summary>
    private static FakeBehavior QuotaExhaustedFor(string key) => FakeBehavior.Custom("QuotaByKey", async (http, ct) =>
    {
        if (http.Request.Headers.Authorization.ToString() == "Bearer " + key)
        {
            http.Response.StatusCode = 429;
            await http.Response.WriteAsync("""{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","code":"insufficient_quota"}}""", ct);
            return;
        }

        await WriteOkAsync(http, ct);
    });

    internal static Task WriteOkAsync(HttpContext http, CancellationToken ct)
    {
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync("""{"id":"c1","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from FakeLlmServer."},"finish_reason":"stop"}]}""", ct);
    }

    private static async Task<List<string>> ChunksAsync(ChatCompletionsClient client)
    {
        var parts = new List<string>();
        await foreach (var chunk in client.StreamAsync(TestClients.Hello()))
        {
            if (chunk.Choices is { Count: > 0 } choices && choices[0].Delta?.Content is { } delta)
            {
                parts.Add(delta);
            }
        }

        return parts;
    }
}
