using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmResilience.Tests.Diagnostics;

/// <summary>The metrics and logs read the call's record: the same kinds as the exception, every failure counted once, per container.</summary>
public sealed class CallMetricsTests
{
    [Fact]
    public async Task NamedClient_NginxBadGatewayThenMalformedJson_RetryAndFailureKindsMatchWhatTheCallerSaw()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.NginxBadGateway(), FakeBehavior.MalformedJson());
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection().AddMetrics();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddChatCompletionsClient("east", o =>
        {
            o.BaseAddress = server.BaseAddress;
            o.Model = "m";
            o.Resilience.BaseDelay = TimeSpan.FromMilliseconds(5);
        });
        await using var provider = services.BuildServiceProvider();
        using var recorder = new MeasurementRecorder(provider.GetRequiredService<IMeterFactory>());
        var client = provider.GetRequiredKeyedService<IChatCompletionsClient>("east");

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
        var retry = Assert.Single(recorder.Of(LlmResilienceTelemetry.RetriesCounterName));
        Assert.Equal("ProxyUpstreamFailure", retry["llm.failure_kind"]);
        Assert.Equal(502, retry["http.response.status_code"]);
        var failure = Assert.Single(recorder.Of(LlmResilienceTelemetry.FailuresCounterName));
        Assert.Equal("InvalidResponse", failure["llm.failure_kind"]);
        Assert.Equal(server.Port, failure["server.port"]);
        var gaveUp = Assert.Single(logs.Entries, e => e.EventId.Id == 2);
        Assert.Equal("east", gaveUp.State.Single(kv => kv.Key == "Client").Value);
        Assert.Equal("2 attempts", gaveUp.State.Single(kv => kv.Key == "Attempts").Value);
    }

    [Fact]
    public async Task AddLlmResilienceHandler_FinalErrorResponse_IsCountedAndLoggedOnce()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), FakeBehavior.Unauthorized());
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection().AddMetrics();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddHttpClient("sdk").AddLlmResilienceHandler(o => o.BaseDelay = TimeSpan.FromMilliseconds(5));
        await using var provider = services.BuildServiceProvider();
        using var recorder = new MeasurementRecorder(provider.GetRequiredService<IMeterFactory>());
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("sdk");

        using var response = await http.PostAsync(new Uri(server.BaseAddress, "chat/completions"),
            new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(401, (int)response.StatusCode);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal("ServerError", Assert.Single(recorder.Of(LlmResilienceTelemetry.RetriesCounterName))["llm.failure_kind"]);
        Assert.Equal("Unauthorized", Assert.Single(recorder.Of(LlmResilienceTelemetry.FailuresCounterName))["llm.failure_kind"]);
        var gaveUp = Assert.Single(logs.Entries, e => e.EventId.Id == 2);
        Assert.Equal("sdk", gaveUp.State.Single(kv => kv.Key == "Client").Value);
    }

    [Fact]
    public async Task TwoContainers_EachMeasuresOnlyItsOwnCalls()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Unauthorized();
        await using var first = Provider(server);
        await using var second = Provider(server);
        using var firstRecorder = new MeasurementRecorder(first.GetRequiredService<IMeterFactory>());
        using var secondRecorder = new MeasurementRecorder(second.GetRequiredService<IMeterFactory>());

        await Assert.ThrowsAsync<LlmException>(() => first.GetRequiredService<IChatCompletionsClient>().CompleteAsync(TestClients.Hello()));
        await Assert.ThrowsAsync<LlmException>(() => first.GetRequiredService<IChatCompletionsClient>().CompleteAsync(TestClients.Hello()));
        await Assert.ThrowsAsync<LlmException>(() => second.GetRequiredService<IChatCompletionsClient>().CompleteAsync(TestClients.Hello()));

        Assert.Equal(2, firstRecorder.Of(LlmResilienceTelemetry.FailuresCounterName).Count);
        Assert.Single(secondRecorder.Of(LlmResilienceTelemetry.FailuresCounterName));

        static ServiceProvider Provider(FakeLlmServer server)
        {
            var services = new ServiceCollection().AddMetrics();
            services.AddChatCompletionsClient(o => { o.BaseAddress = server.BaseAddress; o.Model = "m"; });
            return services.BuildServiceProvider();
        }
    }

    /// <summary>Listens to the instruments of one meter factory only (Meter.Scope is the factory that created it).</summary>
    private sealed class MeasurementRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, Dictionary<string, object?> Tags)> _measurements = new();

        public MeasurementRecorder(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == LlmResilienceTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
            {
                var map = new Dictionary<string, object?>();
                foreach (var tag in tags)
                {
                    map[tag.Key] = tag.Value;
                }

                _measurements.Enqueue((instrument.Name, map));
            });
            _listener.Start();
        }

        public List<Dictionary<string, object?>> Of(string instrument) =>
            [.. _measurements.Where(m => m.Instrument == instrument).Select(m => m.Tags)];

        public void Dispose() => _listener.Dispose();
    }
}
