using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace LlmResilience.Tests.Diagnostics;

/// <summary>
/// The call's span and metrics over real sockets, exported through the OpenTelemetry SDK (in-memory exporter, read after
/// ForceFlush). Spans of tests running in parallel are told apart by trace: each test runs under a root of its own.
/// </summary>
public sealed class CallTelemetryTests
{
    private const string Prompt = "Say hello to the telemetry";
    private static readonly ActivitySource TestSource = new("LlmResilience.Tests.Telemetry");

    [Fact]
    public async Task CompleteAsync_RetriedCall_OneCallSpanWithRetryEventsAndNestedHttpSpans()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), FakeBehavior.ResetBeforeHeaders(), FakeBehavior.Ok("Hello there"));
        using var traces = new TraceCapture();
        using var client = TestClients.Chat(server, o => o.BaseDelay = TimeSpan.FromMilliseconds(5));

        using (traces.Root())
        {
            await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User(Prompt)]) { Temperature = 0.5f, MaxTokens = 64 });
        }

        var spans = traces.Flush();
        var call = Assert.Single(spans, s => s.Source.Name == LlmResilienceTelemetry.ActivitySourceName);
        Assert.Equal("chat test-model", call.DisplayName);
        Assert.Equal(ActivityKind.Client, call.Kind);
        Assert.Equal(traces.RootSpanId, call.ParentSpanId);
        Assert.Equal("chat", call.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("openai", call.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("test-model", call.GetTagItem("gen_ai.request.model"));
        Assert.Equal("fake-model", call.GetTagItem("gen_ai.response.model"));
        Assert.StartsWith("chatcmpl", (string)call.GetTagItem("gen_ai.response.id")!, StringComparison.Ordinal);
        Assert.Equal(["stop"], (string[])call.GetTagItem("gen_ai.response.finish_reasons")!);
        Assert.True((int)call.GetTagItem("gen_ai.usage.input_tokens")! > 0);
        Assert.Equal(2, call.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(0.5, (double)(float)call.GetTagItem("gen_ai.request.temperature")!, 3);
        Assert.Equal(64, call.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal("127.0.0.1", call.GetTagItem("server.address"));
        Assert.Equal(server.Port, call.GetTagItem("server.port"));
        Assert.Equal(3, call.GetTagItem("llm.attempts"));
        Assert.StartsWith("req_", (string)call.GetTagItem("llm.request_id")!, StringComparison.Ordinal);
        Assert.NotNull(call.GetTagItem(LlmResilienceTelemetry.EndpointTagName));
        Assert.Equal(ActivityStatusCode.Unset, call.Status);
        Assert.Null(call.GetTagItem("error.type"));
        Assert.Null(call.GetTagItem("gen_ai.input.messages"));
        Assert.Null(call.GetTagItem("gen_ai.output.messages"));

        var events = call.Events.ToList();
        Assert.Equal(["llm.retry", "llm.retry"], events.Select(e => e.Name));
        Assert.Equal((1, "ServerError", 503), (Tag<int>(events[0], "llm.attempt"), Tag<string>(events[0], "llm.failure_kind"), Tag<int>(events[0], "http.response.status_code")));
        Assert.Equal("backoff", Tag<string>(events[0], "llm.retry.source"));
        Assert.Equal((2, "ResetBeforeHeaders", "immediate", 0L), (Tag<int>(events[1], "llm.attempt"), Tag<string>(events[1], "llm.failure_kind"),
            Tag<string>(events[1], "llm.retry.source"), Tag<long>(events[1], "llm.retry.delay_ms")));

        var http = spans.Where(s => s.Source.Name == "System.Net.Http").ToList();
        Assert.Equal(3, http.Count);
        Assert.All(http, s => Assert.Equal(call.SpanId, s.ParentSpanId));
        AssertNothingSecret(spans);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RecordMessageContent_OptedIn_PromptAndAnswerAsTheConventionsJson_KeyStillAbsent(bool stream)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Ok("Hello there"));
        using var traces = new TraceCapture();
        using var client = ChatCompletionsClient.Create(new LlmClientOptions
        {
            BaseAddress = server.BaseAddress,
            ApiKey = TestClients.ApiKey,
            Model = "m",
            RecordMessageContent = true,
        });
        var request = new ChatCompletionRequest([ChatMessage.System("Be brief."), ChatMessage.User(Prompt)]);

        using (traces.Root())
        {
            if (stream)
            {
                await foreach (var _ in client.StreamAsync(request))
                {
                }
            }
            else
            {
                await client.CompleteAsync(request);
            }
        }

        var call = Assert.Single(traces.Flush(), s => s.Source.Name == LlmResilienceTelemetry.ActivitySourceName);
        Assert.Equal($$"""[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"{{Prompt}}"}]}]""",
            call.GetTagItem("gen_ai.input.messages"));
        Assert.Equal("""[{"role":"assistant","parts":[{"type":"text","content":"Hello there"}],"finish_reason":"stop"}]""", call.GetTagItem("gen_ai.output.messages"));
        Assert.DoesNotContain(call.TagObjects, t => t.Value is string text && text.Contains(TestClients.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CompleteAsync_Unauthorized_SpanHasErrorTypeAndErrorStatus()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Unauthorized());
        using var traces = new TraceCapture();
        using var client = TestClients.Chat(server);

        using (traces.Root())
        {
            await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User(Prompt)])));
        }

        var spans = traces.Flush();
        var call = Assert.Single(spans, s => s.Source.Name == LlmResilienceTelemetry.ActivitySourceName);
        Assert.Equal("Unauthorized", call.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, call.Status);
        Assert.Contains("401", call.StatusDescription, StringComparison.Ordinal);
        Assert.Equal(401, call.GetTagItem("http.response.status_code"));
        Assert.Empty(call.Events);
        AssertNothingSecret(spans);
    }

    [Fact]
    public async Task StreamAsync_SpanEndsWithTheStreamAndCarriesUsage()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Ok("one two three"));
        using var traces = new TraceCapture();
        using var client = TestClients.Chat(server);
        var text = new StringBuilder();

        using (traces.Root())
        {
            await foreach (var chunk in client.StreamAsync(new ChatCompletionRequest([ChatMessage.User(Prompt)]) { StreamOptions = new ChatStreamOptions { IncludeUsage = true } }))
            {
                text.Append(chunk.ContentDelta);
            }
        }

        var call = Assert.Single(traces.Flush(), s => s.Source.Name == LlmResilienceTelemetry.ActivitySourceName);
        Assert.Equal("one two three", text.ToString());
        Assert.Equal(["stop"], (string[])call.GetTagItem("gen_ai.response.finish_reasons")!);
        Assert.Equal(3, call.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal("fake-model", call.GetTagItem("gen_ai.response.model"));
        Assert.Equal(ActivityStatusCode.Unset, call.Status);
    }

    [Fact]
    public async Task AddLlmResilienceHandler_RetriedCall_HandlerOwnsTheSpanWithTheBodysModel()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), FakeBehavior.Ok());
        using var traces = new TraceCapture();
        var services = new ServiceCollection();
        services.AddHttpClient("sdk").AddLlmResilienceHandler(o => o.BaseDelay = TimeSpan.FromMilliseconds(5));
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("sdk");

        using (traces.Root())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseAddress, "chat/completions"))
            {
                Content = new StringContent($$"""{"messages":[{"role":"user","content":"{{Prompt}}"}],"model":"sdk-model"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + TestClients.ApiKey);
            using var response = await http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode);
        }

        var spans = traces.Flush();
        var call = Assert.Single(spans, s => s.Source.Name == LlmResilienceTelemetry.ActivitySourceName);
        Assert.Equal("chat sdk-model", call.DisplayName);
        Assert.Equal("sdk-model", call.GetTagItem("gen_ai.request.model"));
        Assert.Null(call.GetTagItem("gen_ai.response.model")); // the SDK reads the answer, not the handler
        Assert.Equal("llm.retry", Assert.Single(call.Events).Name);
        Assert.Equal(2, spans.Count(s => s.Source.Name == "System.Net.Http" && s.ParentSpanId == call.SpanId));
        AssertNothingSecret(spans);
    }

    [Fact]
    public async Task TwoEndpoints_FirstFails_FailoverEventNamesTheNextEndpoint()
    {
        await using var east = await FakeLlmServer.StartAsync();
        await using var west = await FakeLlmServer.StartAsync();
        east.Enqueue(FakeBehavior.ServerError(500));
        using var traces = new TraceCapture();
        var options = new LlmClientOptions { Model = "m", Resilience = TestClients.FastResilience() };
        options.Endpoints.Add(new LlmEndpoint { Name = "east", BaseAddress = east.BaseAddress, ApiKey = TestClients.ApiKey });
        options.Endpoints.Add(new LlmEndpoint { Name = "west", BaseAddress = west.BaseAddress, ApiKey = TestClients.ApiKey, Priority = 1 });
        using var client = ChatCompletionsClient.Create(options);

        using (traces.Root())
        {
            await client.CompleteAsync(TestClients.Hello());
        }

        var call = Assert.Single(traces.Flush(), s => s.Source.Name == LlmResilienceTelemetry.ActivitySourceName);
        var failover = Assert.Single(call.Events);
        Assert.Equal("llm.failover", failover.Name);
        Assert.Equal(("east", "west", "failover"), (Tag<string>(failover, "llm.endpoint"), Tag<string>(failover, "llm.failover.to"), Tag<string>(failover, "llm.retry.source")));
        Assert.Equal("west", call.GetTagItem("llm.endpoint"));
        Assert.Equal(west.Port, call.GetTagItem("server.port"));
    }

    [Fact]
    public async Task Metrics_RetriedCall_DurationTokensAttemptsAndRetryDelaysWithTheConventionsAttributes()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "10" }), FakeBehavior.Ok("a b c d"));
        await using var provider = Provider(server, r => r.BaseDelay = TimeSpan.FromMilliseconds(5));
        using var recorder = new Recorder(provider.GetRequiredService<IMeterFactory>());

        await provider.GetRequiredService<IChatCompletionsClient>().CompleteAsync(TestClients.Hello());

        var duration = Assert.Single(recorder.Of(LlmResilienceTelemetry.OperationDurationName));
        Assert.InRange((double)duration.Value, 0.005, 30);
        Assert.Equal(("chat", "openai", "m", "fake-model"), (duration.Tags["gen_ai.operation.name"], duration.Tags["gen_ai.provider.name"], duration.Tags["gen_ai.request.model"], duration.Tags["gen_ai.response.model"]));
        Assert.Equal(("127.0.0.1", server.Port), (duration.Tags["server.address"], duration.Tags["server.port"]));
        Assert.False(duration.Tags.ContainsKey("error.type"));
        var tokens = recorder.Of(LlmResilienceTelemetry.TokenUsageName);
        Assert.Equal(["input", "output"], tokens.Select(t => t.Tags["gen_ai.token.type"]));
        Assert.Equal(4L, tokens[1].Value);
        var attempts = recorder.Of(LlmResilienceTelemetry.AttemptsCounterName);
        Assert.Equal(["failed", "succeeded"], attempts.Select(a => a.Tags["llm.attempt.outcome"]));
        Assert.Equal("RateLimited", attempts[0].Tags["llm.failure_kind"]);
        var delay = Assert.Single(recorder.Of(LlmResilienceTelemetry.RetryDelayName));
        Assert.Equal(("server_hint", 0.01), (delay.Tags["llm.retry.source"], (double)delay.Value));
        Assert.Empty(recorder.Of(LlmResilienceTelemetry.TimeToFirstChunkName));
    }

    [Fact]
    public async Task Metrics_FailedCall_DurationCarriesErrorType()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.InsufficientQuota());
        await using var provider = Provider(server);
        using var recorder = new Recorder(provider.GetRequiredService<IMeterFactory>());

        await Assert.ThrowsAsync<LlmException>(() => provider.GetRequiredService<IChatCompletionsClient>().CompleteAsync(TestClients.Hello()));

        var duration = Assert.Single(recorder.Of(LlmResilienceTelemetry.OperationDurationName));
        Assert.Equal("QuotaExceeded", duration.Tags["error.type"]);
        Assert.Empty(recorder.Of(LlmResilienceTelemetry.TokenUsageName));
    }

    [Fact]
    public async Task Metrics_Stream_TimeToFirstChunkOnceAndStallCounted()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["a ", "b"]), FakeBehavior.StreamStallAfter(1));
        await using var provider = Provider(server, r => r.StreamIdleTimeout = TimeSpan.FromMilliseconds(150));
        using var recorder = new Recorder(provider.GetRequiredService<IMeterFactory>());
        var client = provider.GetRequiredService<IChatCompletionsClient>();

        await foreach (var _ in client.StreamAsync(TestClients.Hello()))
        {
        }

        var error = await Assert.ThrowsAsync<LlmException>(async () =>
        {
            await foreach (var _ in client.StreamAsync(TestClients.Hello()))
            {
            }
        });

        Assert.Equal(LlmFailureKind.StreamInterrupted, error.Kind);
        Assert.Equal(2, recorder.Of(LlmResilienceTelemetry.TimeToFirstChunkName).Count);
        var stall = Assert.Single(recorder.Of(LlmResilienceTelemetry.StreamStallsCounterName));
        Assert.Equal("idle", stall.Tags["llm.stall"]);
        Assert.Equal("StreamInterrupted", recorder.Of(LlmResilienceTelemetry.OperationDurationName)[1].Tags["error.type"]);
    }

    [Fact]
    public async Task Metrics_BreakerOpensThenAProbeCloses_EachTransitionCounted()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.ServerError(503);
        var time = new ManualTimeProvider();
        var services = new ServiceCollection().AddMetrics();
        services.AddSingleton<TimeProvider>(time);
        services.AddChatCompletionsClient(o =>
        {
            o.Model = "m";
            o.ApiKey = TestClients.ApiKey;
            o.Endpoints.Add(new LlmEndpoint { Name = "primary", BaseAddress = primary.BaseAddress });
            o.Endpoints.Add(new LlmEndpoint { Name = "secondary", BaseAddress = secondary.BaseAddress, Priority = 1 });
            o.Resilience.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(15);
        });
        await using var provider = services.BuildServiceProvider();
        using var recorder = new Recorder(provider.GetRequiredService<IMeterFactory>());
        var client = provider.GetRequiredService<IChatCompletionsClient>();

        for (var i = 0; i < 4; i++)
        {
            await client.CompleteAsync(TestClients.Hello());
            time.Advance(TimeSpan.FromSeconds(1));
        }

        primary.DefaultBehavior = FakeBehavior.Ok();
        time.Advance(TimeSpan.FromSeconds(15));
        await client.CompleteAsync(TestClients.Hello());

        var transitions = recorder.Of(LlmResilienceTelemetry.BreakerTransitionsCounterName);
        Assert.Equal(["open", "half_open", "closed"], transitions.Select(t => t.Tags["llm.breaker.state"]));
        Assert.All(transitions, t => Assert.Equal("primary", t.Tags["llm.endpoint"]));
    }

    /// <summary>A container with metrics and the default client on <paramref name="server"/> (model "m").</summary>
    private static ServiceProvider Provider(FakeLlmServer server, Action<LlmResilienceOptions>? resilience = null)
    {
        var services = new ServiceCollection().AddMetrics();
        services.AddChatCompletionsClient(o =>
        {
            o.BaseAddress = server.BaseAddress;
            o.Model = "m";
            resilience?.Invoke(o.Resilience);
        });
        return services.BuildServiceProvider();
    }

    private static T Tag<T>(ActivityEvent e, string name) => (T)e.Tags.Single(t => t.Key == name).Value!;

    /// <summary>No span, attribute or event holds the prompt or the key.</summary>
    private static void AssertNothingSecret(IEnumerable<Activity> spans)
    {
        foreach (var span in spans)
        {
            var text = new StringBuilder(span.DisplayName).Append(span.StatusDescription);
            foreach (var tag in span.TagObjects.Concat(span.Events.SelectMany(e => e.Tags)))
            {
                text.Append(tag.Key).Append('=').Append(tag.Value is string[] array ? string.Join(",", array) : tag.Value).Append(';');
            }

            Assert.DoesNotContain(Prompt, text.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("Say hello", text.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(TestClients.ApiKey, text.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("SECRET", text.ToString(), StringComparison.Ordinal);
        }
    }

    /// <summary>An OpenTelemetry SDK tracer provider with the in-memory exporter, for our source and the runtime's HTTP spans.</summary>
    private sealed class TraceCapture : IDisposable
    {
        private readonly List<Activity> _exported = [];
        private readonly TracerProvider _provider;
        private ActivityTraceId _traceId;

        public TraceCapture() =>
            _provider = Sdk.CreateTracerProviderBuilder()
                .AddSource(LlmResilienceTelemetry.ActivitySourceName, "System.Net.Http", TestSource.Name)
                .AddInMemoryExporter(_exported)
                .Build()!;

        public ActivitySpanId RootSpanId { get; private set; }

        public Activity Root()
        {
            var root = TestSource.StartActivity("test")!;
            (_traceId, RootSpanId) = (root.TraceId, root.SpanId);
            return root;
        }

        public List<Activity> Flush()
        {
            _provider.ForceFlush();
            lock (_exported)
            {
                return [.. _exported.Where(a => a.TraceId == _traceId && a.SpanId != RootSpanId)];
            }
        }

        public void Dispose() => _provider.Dispose();
    }

    /// <summary>Every measurement of one container's LlmResilience meter, with its value and tags.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, object Value, Dictionary<string, object?> Tags)> _measurements = new();

        public Recorder(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == LlmResilienceTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        public List<(object Value, Dictionary<string, object?> Tags)> Of(string instrument) =>
            [.. _measurements.Where(m => m.Instrument == instrument).Select(m => (m.Value, m.Tags))];

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, object value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            _measurements.Enqueue((instrument.Name, value, map));
        }
    }
}
