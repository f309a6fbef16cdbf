using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmResilience.Tests.Routing;

/// <summary>The per-attempt seam: each attempt asks the call's selector where to go and is built for that endpoint.</summary>
public sealed class EndpointSelectorTests
{
    [Fact]
    public async Task Retry_SelectorNamesAnotherEndpoint_TheRetryGoesThereWithItsOwnKeyAndModel()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.ServerError(503);
        var store = new InMemoryEndpointStateStore();
        var selector = new FailoverSelector(
            new EndpointTarget("primary"),
            new EndpointTarget("secondary", secondary.BaseAddress, "Bearer sk-secondary", "other-model"),
            store);
        using var client = ClientWith(primary, selector, store);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("Hello from FakeLlmServer.", completion.Content);
        Assert.Single(primary.Requests);
        var second = Assert.Single(secondary.Requests);
        Assert.Equal("/v1/chat/completions", second.Path);
        Assert.Contains("\"model\":\"other-model\"", second.Body);
        Assert.Contains("\"model\":\"test-model\"", primary.Requests[0].Body);
        Assert.True(primary.Requests[0].SentApiKey(TestClients.ApiKey));
        Assert.True(second.SentApiKey("sk-secondary"));
        Assert.Equal(1, store.Get("primary").ConsecutiveFailures);
        Assert.Equal(0, store.Get("secondary").ConsecutiveFailures);
    }

    [Fact]
    public async Task EndpointState_429WithRetryAfter_SetsACooldownThatASuccessClears()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "30" }));
        var time = new ManualTimeProvider();
        var store = new InMemoryEndpointStateStore();
        var endpoint = new EndpointTarget("only");
        var selector = new SingleEndpointSelector(endpoint, store);
        using var client = ClientWith(server, selector, store);

        await client.CompleteAsync(TestClients.Hello());

        var state = store.Get("only");
        Assert.Equal(0, state.ConsecutiveFailures);
        Assert.Null(state.LastFailure);
        Assert.Equal(DateTimeOffset.MinValue, state.CooldownUntil);

        var attempt = new LlmAttempt(1, endpoint, time.GetTimestamp());
        attempt.Fail(new AttemptFailure(LlmFailureKind.RateLimited, true, "HTTP 429") { StatusCode = 429, RetryAfter = TimeSpan.FromSeconds(30) }, time);
        state.Record(attempt, time.GetUtcNow(), policy: null);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(30), state.CooldownUntil);
        Assert.Equal((LlmFailureKind.RateLimited, (int?)429, time.GetUtcNow()), state.LastFailure);
    }

    [Fact]
    public async Task Attempts_RecordWhatEachAttemptSawOverARealSocket()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string>
        {
            ["retry-after-ms"] = "20",
            ["x-ratelimit-limit-requests"] = "500",
            ["x-ratelimit-remaining-requests"] = "0",
            ["x-ratelimit-reset-requests"] = "120ms",
        }));
        var store = new InMemoryEndpointStateStore();
        var recorder = new RecordingSelector(new EndpointTarget("only"), store);
        using var client = ClientWith(server, recorder, store);

        await client.CompleteAsync(TestClients.Hello());

        var attempts = recorder.Reported.ToArray();
        Assert.Equal(2, attempts.Length);
        var limited = attempts[0];
        Assert.Equal(1, limited.Number);
        Assert.Equal(429, limited.StatusCode);
        Assert.Equal(AttemptEnd.Failed, limited.End);
        Assert.Equal(LlmFailureKind.RateLimited, limited.Failure!.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(20), limited.Failure.RetryAfter);
        Assert.Equal(new RetryDecision(true, TimeSpan.FromMilliseconds(20), RetryDelaySource.ServerHint, CallStopReason.None), limited.Decision);
        Assert.Equal("500", limited.RateLimits!.LimitRequests);
        Assert.Equal("0", limited.RateLimits.RemainingRequests);
        Assert.Equal("120ms", limited.RateLimits.ResetRequests);
        Assert.StartsWith("req_", limited.RequestId, StringComparison.Ordinal);
        Assert.Equal(new Uri(server.BaseAddress, "chat/completions"), limited.RequestUri);
        var ok = attempts[1];
        Assert.Equal(2, ok.Number);
        Assert.Equal(200, ok.StatusCode);
        Assert.Equal(AttemptEnd.Succeeded, ok.End);
        Assert.Null(ok.Failure);
        Assert.Null(ok.RateLimits);
        Assert.True(ok.Duration > TimeSpan.Zero);
        Assert.NotEqual(limited.RequestId, ok.RequestId);
    }

    [Fact]
    public void Rebase_TemplateUnderTheOrigin_IsReRootedOnTheTarget()
    {
        var rebased = AttemptMessage.Rebase(new Uri("https://a.example/v1/chat/completions"), new Uri("https://a.example/v1/"), new Uri("https://b.example/openai/v1/"));
        var foreign = AttemptMessage.Rebase(new Uri("https://c.example/x"), new Uri("https://a.example/v1/"), new Uri("https://b.example/v1/"));

        Assert.Equal(new Uri("https://b.example/openai/v1/chat/completions"), rebased);
        Assert.Equal(new Uri("https://c.example/x"), foreign);
        // Azure's api-version rides on the target's base; the origin's query is not carried over.
        Assert.Equal(new Uri("https://r.openai.azure.com/openai/v1/chat/completions?api-version=preview"),
            AttemptMessage.Rebase(new Uri("https://a.example/v1/chat/completions"), new Uri("https://a.example/v1/"), new Uri("https://r.openai.azure.com/openai/v1/?api-version=preview")));
        Assert.Equal(new Uri("https://b.example/v1/chat/completions"),
            AttemptMessage.Rebase(new Uri("https://a.example/v1/chat/completions?x=1"), new Uri("https://a.example/v1/?x=1"), new Uri("https://b.example/v1/")));
    }

    private static ChatCompletionsClient ClientWith(FakeLlmServer server, IEndpointSelector selector, IEndpointStateStore store)
    {
        var options = new LlmClientOptions { BaseAddress = server.BaseAddress, ApiKey = TestClients.ApiKey, Model = "test-model", Resilience = TestClients.FastResilience() };
        options.ApplyDefaults();
        var metrics = new LlmMetrics(null);
        var handler = new LlmResilienceHandler(options.Resilience, TimeProvider.System, NullLogger.Instance, metrics, store)
        {
            InnerHandler = new RecyclingConnectionHandler(options.Resilience, NullLogger.Instance),
        };
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        return new ChatCompletionsClient(http, options, null,
            new ChatCompletionsClient.ClientServices(TimeProvider.System, NullLogger.Instance, metrics, store), http, selector);
    }

    /// <summary>One endpoint; keeps every attempt it is told about, in order.</summary>
    private sealed class RecordingSelector(EndpointTarget endpoint, IEndpointStateStore store) : IEndpointSelector
    {
        public System.Collections.Concurrent.ConcurrentQueue<LlmAttempt> Reported { get; } = new();

        public bool Routes => false;

        public EndpointTarget? Select(LlmCall call, EndpointTarget? skip = null) => endpoint;

        public TimeSpan? AvailableIn(LlmCall call) => TimeSpan.Zero;

        public string DescribeAvailability() => endpoint.Name;

        public void Report(LlmAttempt attempt, TimeProvider time)
        {
            Reported.Enqueue(attempt);
            store.Get(attempt.Endpoint.Name).Record(attempt, time.GetUtcNow(), policy: null);
        }
    }

    /// <summary>The first attempt to the first endpoint, every later one to the second: the smallest failover.</summary>
    private sealed class FailoverSelector(EndpointTarget first, EndpointTarget second, IEndpointStateStore store) : IEndpointSelector
    {
        public bool Routes => false;

        public EndpointTarget? Select(LlmCall call, EndpointTarget? skip = null) => call.AttemptCount == 0 ? first : second;

        public TimeSpan? AvailableIn(LlmCall call) => TimeSpan.Zero;

        public string DescribeAvailability() => $"{first.Name}, {second.Name}";

        public void Report(LlmAttempt attempt, TimeProvider time) => store.Get(attempt.Endpoint.Name).Record(attempt, time.GetUtcNow(), policy: null);
    }
}
