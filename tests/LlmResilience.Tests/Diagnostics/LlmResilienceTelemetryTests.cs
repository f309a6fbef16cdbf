using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Diagnostics;

public sealed class LlmResilienceTelemetryTests
{
    [Fact]
    public async Task Metrics_RetriesAndFailures_AreCountedWithKindStatusAndServer()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var measurements = new ConcurrentQueue<(string Instrument, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LlmResilienceTelemetry.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            // Other tests run in parallel: keep only what concerns this test's server.
            if (map.TryGetValue("server.port", out var port) && (int)port! == server.Port)
            {
                measurements.Enqueue((instrument.Name, map));
            }
        });
        listener.Start();
        server.Enqueue(FakeBehavior.ServerError(503), FakeBehavior.ResetBeforeHeaders(), FakeBehavior.Unauthorized());
        using var client = TestClients.Chat(server);

        await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        var retries = measurements.Where(m => m.Instrument == LlmResilienceTelemetry.RetriesCounterName).ToList();
        Assert.Equal(2, retries.Count);
        Assert.Equal("ServerError", retries[0].Tags["llm.failure_kind"]);
        Assert.Equal(503, retries[0].Tags["http.response.status_code"]);
        Assert.Equal("ResetBeforeHeaders", retries[1].Tags["llm.failure_kind"]);
        Assert.Equal("127.0.0.1", retries[1].Tags["server.address"]);
        var failure = Assert.Single(measurements, m => m.Instrument == LlmResilienceTelemetry.FailuresCounterName);
        Assert.Equal("Unauthorized", failure.Tags["llm.failure_kind"]);
    }
}
