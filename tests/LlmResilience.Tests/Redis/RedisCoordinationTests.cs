using System.Diagnostics;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmResilience.Tests.Redis;

/// <summary>
/// Two instances of one client (two service providers, as two processes would be) sharing one real redis-server, over
/// real sockets to FakeLlmServer: what one learns about an endpoint keeps the other off it, and Redis never fails a call.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisCoordinationTests
{
    private const string KeyA = "sk-fleet-A-1111111111111111";
    private const string KeyB = "sk-fleet-B-2222222222222222";
    private const string Prompt = "Tell the fleet a secret prompt 7f3a";
    private const string Answer = "the secret answer 9c1e";

    [RedisFact]
    public async Task RetryAfter429OnOneInstance_TheOtherInstanceStaysOffThatEndpoint()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var primary = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { DefaultContent = Answer });
        await using var secondary = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { DefaultContent = Answer });
        primary.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "30" }));
        LlmEndpoint[] endpoints = [Endpoint("primary", primary.BaseAddress, KeyA), Endpoint("secondary", secondary.BaseAddress, KeyB, priority: 1)];
        await using var a = await Instance.StartAsync(redis.Configuration, endpoints);
        await using var b = await Instance.StartAsync(redis.Configuration, endpoints);

        Assert.Equal("secondary", (await a.Client.CompleteAsync(TestClients.Hello(Prompt))).Endpoint);
        Assert.Single(primary.Requests);

        Assert.True(await Eventually.TrueAsync(() => b.Unavailable("primary")), "instance B never learned instance A's cooldown");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("secondary", (await b.Client.CompleteAsync(TestClients.Hello(Prompt))).Endpoint);
        }

        Assert.Single(primary.Requests);
        Assert.Contains("another instance", b.Store.States.Single(s => s.Key.StartsWith("primary#", StringComparison.Ordinal)).Value.WhyUnavailable(DateTimeOffset.UtcNow));
        await AssertNothingSecretInAsync(redis, [KeyA, KeyB, TestClients.ApiKey, Prompt, Answer]);
    }

    [RedisFact]
    public async Task RetryAfter429OnOneInstance_OneEndpointOnly_TheOtherInstanceWaitsItOutBeforeSending()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { DefaultContent = Answer });
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "1500" }));
        await using var a = await SingleEndpointInstance.StartAsync(server, redis, requestsPerMinute: null, static o => o.OperationTimeout = TimeSpan.FromSeconds(1));
        await using var b = await SingleEndpointInstance.StartAsync(server, redis, requestsPerMinute: null, static o => o.OperationTimeout = TimeSpan.FromSeconds(1));

        // Instance A is told to wait 1.5 s; it retries after that and succeeds.
        var first = a.Client.CompleteAsync(TestClients.Hello(Prompt));
        Assert.True(await Eventually.TrueAsync(() => b.Store!.States.Any(s => s.Value.HeldOff(DateTimeOffset.UtcNow, null, TimeSpan.FromSeconds(60)) is not null), TimeSpan.FromSeconds(5)),
            "instance B never learned the wait instance A was asked for");
        await AssertNothingSecretInAsync(redis, [TestClients.ApiKey, Prompt, Answer]); // while the cooldown is in Redis

        // Instance B has nowhere else to go: its call waits out A's cooldown instead of meeting another 429.
        var second = await b.Client.CompleteAsync(TestClients.Hello(Prompt));
        await first;

        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests.Skip(1), r => Assert.True(r.ElapsedSince(server.Requests[0]) >= TimeSpan.FromMilliseconds(1450),
            $"a request came {r.ElapsedSince(server.Requests[0]).TotalMilliseconds:0} ms after the 429"));
        Assert.Equal(Answer, second.Content);
        var waiting = Assert.Single(b.Logs.Entries, e => e.EventId.Name == "WaitingForEndpoint");
        Assert.Contains("another instance", waiting.Message, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task InsufficientQuotaOnOneInstance_TheOtherInstanceLeavesThatKeyOut()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { DefaultContent = Answer });
        server.DefaultBehavior = QuotaExhaustedFor(KeyA);
        LlmEndpoint[] endpoints = [Endpoint("key-a", server.BaseAddress, KeyA), Endpoint("key-b", server.BaseAddress, KeyB, priority: 1)];
        await using var a = await Instance.StartAsync(redis.Configuration, endpoints);
        await using var b = await Instance.StartAsync(redis.Configuration, endpoints);

        Assert.Equal("key-b", (await a.Client.CompleteAsync(TestClients.Hello(Prompt))).Endpoint);
        Assert.True(await Eventually.TrueAsync(() => b.Unavailable("key-a")), "instance B never learned that key A is out of quota");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("key-b", (await b.Client.CompleteAsync(TestClients.Hello(Prompt))).Endpoint);
        }

        Assert.Equal(1, server.Requests.Count(r => r.SentApiKey(KeyA)));
        await AssertNothingSecretInAsync(redis, [KeyA, KeyB, TestClients.ApiKey, Prompt, Answer]);
    }

    [RedisFact]
    public async Task BreakerOpensOnOneInstance_TheOtherInstanceStaysOffThatEndpoint()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.Status(500);
        LlmEndpoint[] endpoints = [Endpoint("primary", primary.BaseAddress, KeyA), Endpoint("secondary", secondary.BaseAddress, KeyB, priority: 1)];
        Action<LlmResilienceOptions> breaker = o =>
        {
            o.CircuitBreaker.MinimumThroughput = 2;
            o.CircuitBreaker.FailureRatio = 0.5;
            o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        };
        await using var a = await Instance.StartAsync(redis.Configuration, endpoints, breaker);
        await using var b = await Instance.StartAsync(redis.Configuration, endpoints, breaker);

        for (var i = 0; i < 3 && !a.Logs.Entries.Any(e => e.EventId.Name == "BreakerOpened"); i++)
        {
            Assert.Equal("secondary", (await a.Client.CompleteAsync(TestClients.Hello())).Endpoint);
        }

        Assert.Contains(a.Logs.Entries, e => e.EventId.Name == "BreakerOpened");
        Assert.True(await Eventually.TrueAsync(() => b.Unavailable("primary")), "instance B never learned that instance A's breaker opened");
        var before = primary.Requests.Count;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("secondary", (await b.Client.CompleteAsync(TestClients.Hello())).Endpoint);
        }

        Assert.Equal(before, primary.Requests.Count);
    }

    [RedisFact]
    public async Task RedisKilledMidRun_CallsGoOnLocally_LoggedOnce_SharingResumesWhenItIsBack()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        // Paced (generously): the shared budget, taken from Redis, is on every call's path.
        LlmEndpoint[] endpoints = [Endpoint("primary", primary.BaseAddress, KeyA, requestsPerMinute: 60_000), Endpoint("secondary", secondary.BaseAddress, KeyB, priority: 1, requestsPerMinute: 60_000)];
        await using var a = await Instance.StartAsync(redis.Configuration, endpoints);
        await using var b = await Instance.StartAsync(redis.Configuration, endpoints);
        await a.Client.CompleteAsync(TestClients.Hello());
        await AssertKeyExistsAsync(redis, ":budget:primary#");

        redis.Kill();
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("primary", (await a.Client.CompleteAsync(TestClients.Hello())).Endpoint);
            Assert.Equal("primary", (await b.Client.CompleteAsync(TestClients.Hello())).Endpoint);
        }

        // Twenty calls without Redis take what twenty calls take: no Redis timeout on their path.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"20 calls took {stopwatch.Elapsed}");
        Assert.True(await Eventually.TrueAsync(() => !a.Store.IsShared && !b.Store.IsShared), "the instances did not notice that Redis is gone");

        // While Redis is out, instance A learns a cooldown alone: instance B does not know it, and calls go on.
        primary.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "30" }));
        Assert.Equal("secondary", (await a.Client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Equal(1, a.Logs.Entries.Count(e => e.EventId.Name == "RedisUnavailable"));
        Assert.Equal(1, b.Logs.Entries.Count(e => e.EventId.Name == "RedisUnavailable"));
        Assert.DoesNotContain(a.Logs.Entries, e => e.Message.Contains(KeyA, StringComparison.Ordinal) || e.Message.Contains(redis.Configuration, StringComparison.Ordinal));

        await redis.RestartAsync();
        Assert.True(await Eventually.TrueAsync(() => a.Store.IsShared && b.Store.IsShared, TimeSpan.FromSeconds(20)), "sharing did not resume after Redis came back");
        Assert.Equal(1, a.Logs.Entries.Count(e => e.EventId.Name == "RedisRestored"));

        // A republishes what it learned while Redis was out; B stays off the primary from then on.
        Assert.True(await Eventually.TrueAsync(() => b.Unavailable("primary")), "instance B never learned the cooldown instance A found while Redis was out");
        var before = primary.Requests.Count;
        Assert.Equal("secondary", (await b.Client.CompleteAsync(TestClients.Hello())).Endpoint);
        Assert.Equal(before, primary.Requests.Count);
        Assert.Equal(1, a.Logs.Entries.Count(e => e.EventId.Name == "RedisUnavailable"));
    }

    [RedisFact]
    public async Task RedisFrozen_OperationsTimeOut_CallsAreNotHeldUp()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await FakeLlmServer.StartAsync();
        LlmEndpoint[] endpoints = [Endpoint("one", server.BaseAddress, KeyA, requestsPerMinute: 60_000), Endpoint("two", server.BaseAddress, KeyB, priority: 1, requestsPerMinute: 60_000)];
        await using var a = await Instance.StartAsync(redis.Configuration, endpoints);

        // A cold start may already have been slower than the 50 ms operation timeout once (logged, then restored): only
        // what the freeze logs counts.
        Assert.True(await Eventually.TrueAsync(() => a.Store.IsShared, TimeSpan.FromSeconds(5)), "the instance never shared through Redis");
        var logsBefore = a.Logs.Entries.Count;
        Signal("STOP", redis.ProcessId!.Value); // Redis accepts nothing and answers nothing: slow, not refused
        try
        {
            server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "30" }));
            var stopwatch = Stopwatch.StartNew();
            for (var i = 0; i < 5; i++)
            {
                await a.Client.CompleteAsync(TestClients.Hello());
            }

            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"5 calls took {stopwatch.Elapsed}");
            Assert.True(await Eventually.TrueAsync(() => !a.Store.IsShared), "the instance did not notice that Redis stopped answering");
            var logged = a.Logs.Entries.Skip(logsBefore).ToList();
            Assert.True(1 == logged.Count(e => e.EventId.Name == "RedisUnavailable"), string.Join("\n", logged.Select(e => $"{e.EventId.Name}: {e.Message}")));
        }
        finally
        {
            Signal("CONT", redis.ProcessId!.Value);
        }

        Assert.True(await Eventually.TrueAsync(() => a.Store.IsShared, TimeSpan.FromSeconds(20)), "sharing did not resume after Redis answered again");
    }

    [RedisFact]
    public async Task NoRedisAtStartUp_CallsSucceed_LoggedOnce()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var refused = FakeLlmServer.GetRefusedAddress();
        await using var a = await Instance.StartAsync($"{refused.Host}:{refused.Port}", [Endpoint("one", server.BaseAddress, KeyA), Endpoint("two", server.BaseAddress, KeyB, priority: 1)],
            waitForRedis: false);

        for (var i = 0; i < 5; i++)
        {
            await a.Client.CompleteAsync(TestClients.Hello());
        }

        Assert.True(await Eventually.TrueAsync(() => a.Logs.Entries.Any(e => e.EventId.Name == "RedisUnavailable")));
        await Task.Delay(200); // a few refresh rounds against the refused port
        Assert.True(1 == a.Logs.Entries.Count(e => e.EventId.Name is "RedisUnavailable" or "RedisRestored"), a.Logs.AllText());
        Assert.False(a.Store.IsShared);
    }

    [Theory]
    [InlineData(0, "OperationTimeout")]
    [InlineData(10_000, "OperationTimeout")]
    public void Options_OutOfRange_FailAtStartUpWithHowToFixIt(int timeoutMs, string property)
    {
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o => o.BaseAddress = new Uri("http://127.0.0.1:1/v1/"))
            .AddLlmRedisCoordination("127.0.0.1:1", o => o.OperationTimeout = TimeSpan.FromMilliseconds(timeoutMs));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LlmRedisCoordinationOptions>>().Value);
        Assert.Contains(property, error.Message, StringComparison.Ordinal);
        Assert.Contains("set it between", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromContainer_NoMultiplexerRegistered_SaysWhatToRegister()
    {
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o => o.BaseAddress = new Uri("http://127.0.0.1:1/v1/")).AddLlmRedisCoordination();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IChatCompletionsClient>());
        Assert.Contains("IConnectionMultiplexer", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Scans every key and every value in Redis: nothing of a key, a prompt or an answer.</summary>
    private static async Task AssertNothingSecretInAsync(RedisServer redis, string[] secrets)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var keys = new List<RedisKey>();
        await foreach (var key in connection.GetServer(connection.GetEndPoints()[0]).KeysAsync(pattern: "*"))
        {
            keys.Add(key);
        }

        Assert.NotEmpty(keys); // the test would prove nothing on an empty Redis
        var database = connection.GetDatabase();
        foreach (var key in keys)
        {
            var text = key.ToString() + " " + (await database.StringGetAsync(key)).ToString();
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
                Assert.DoesNotContain(secret[..12], text, StringComparison.Ordinal);
            }
        }
    }

    private static async Task AssertKeyExistsAsync(RedisServer redis, string part)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var keys = new List<string>();
        await foreach (var key in connection.GetServer(connection.GetEndPoints()[0]).KeysAsync(pattern: "*"))
        {
            keys.Add(key.ToString());
        }

        Assert.Contains(keys, k => k.Contains(part, StringComparison.Ordinal));
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", $"-{signal} {pid}");
        kill.WaitForExit();
    }

    private static LlmEndpoint Endpoint(string name, Uri baseAddress, string key, int priority = 0, int? requestsPerMinute = null) =>
        new() { Name = name, BaseAddress = baseAddress, ApiKey = key, Priority = priority, RequestsPerMinute = requestsPerMinute };

    private static FakeBehavior QuotaExhaustedFor(string key) => FakeBehavior.Custom("QuotaByKey", async (http, ct) =>
    {
        if (http.Request.Headers.Authorization.ToString() == "Bearer " + key)
        {
            http.Response.StatusCode = 429;
            await http.Response.WriteAsync("""{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","code":"insufficient_quota"}}""", ct);
            return;
        }

        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync($$"""{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{{Answer}}"},"finish_reason":"stop"}]}""", ct);
    });

    /// <summary>One instance of the app: its own container (as its own process would have), logs and Redis connection.</summary>
    private sealed class Instance : IAsyncDisposable
    {
        private readonly ServiceProvider _provider;

        private Instance(ServiceProvider provider, CapturingLoggerProvider logs)
        {
            _provider = provider;
            Logs = logs;
            Client = provider.GetRequiredService<IChatCompletionsClient>();
            Store = provider.GetRequiredService<RedisEndpointStateStore>();
        }

        public IChatCompletionsClient Client { get; }

        public RedisEndpointStateStore Store { get; }

        public CapturingLoggerProvider Logs { get; }

        public static async Task<Instance> StartAsync(string redis, IReadOnlyList<LlmEndpoint> endpoints, Action<LlmResilienceOptions>? configure = null,
            bool waitForRedis = true)
        {
            var logs = new CapturingLoggerProvider();
            var services = new ServiceCollection();
            services.AddSingleton<ILoggerFactory>(logs);
            services.AddChatCompletionsClient(o =>
                {
                    o.BaseAddress = endpoints[0].BaseAddress;
                    o.Model = "test-model";
                    o.Resilience = TestClients.FastResilience(configure);
                    foreach (var endpoint in endpoints)
                    {
                        o.Endpoints.Add(endpoint);
                    }
                })
                .AddLlmRedisCoordination(redis, o => o.RefreshInterval = TimeSpan.FromMilliseconds(50));
            var instance = new Instance(services.BuildServiceProvider(), logs);
            if (waitForRedis)
            {
                Assert.True(await Eventually.TrueAsync(() => instance.Store.IsShared, TimeSpan.FromSeconds(10)), "the instance never connected to Redis");
                // A redis-server just started may refuse the first connection (logged, then restored): the tests are about
                // what happens once the instance shares, so the start-up's log lines are dropped.
                logs.Entries.Clear();
            }

            return instance;
        }

        public bool Unavailable(string endpoint) =>
            Store.States.Single(s => s.Key.StartsWith(endpoint + "#", StringComparison.Ordinal)).Value.UnavailableUntil(DateTimeOffset.UtcNow) is not null;

        public ValueTask DisposeAsync() => _provider.DisposeAsync();
    }
}
