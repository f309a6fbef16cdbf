using System.Diagnostics;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Diagnostics;

/// <summary>Test classes that need no ActivityListener or MeterListener alive in the process run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NoTelemetryListenerCollection
{
    public const string Name = "No telemetry listener";
}

/// <summary>The happy path's cost when nobody listens: no telemetry object, no allocation, for the whole call.</summary>
[Collection(NoTelemetryListenerCollection.Name)]
public sealed class CallTelemetryNoListenerTests
{
    [Fact]
    public void StartForClient_NobodyListens_ReturnsNullWithoutAllocating_AndAListenerTurnsItOn()
    {
        using var metrics = new LlmMetrics(null);
        using var call = new LlmCall(null, TimeProvider.System, TimeSpan.FromSeconds(10), ownedByPipeline: false);
        var request = TestClients.Hello();
        var address = new Uri("http://127.0.0.1:1/v1/chat/completions");
        Assert.False(CallTelemetry.Source.HasListeners());
        CallTelemetry.StartForClient(call, metrics, request, "m", address); // JIT outside the measurement

        var before = GC.GetAllocatedBytesForCurrentThread();
        var telemetry = CallTelemetry.StartForClient(call, metrics, request, "m", address);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(telemetry);
        Assert.Equal(0, allocated);

        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == LlmResilienceTelemetry.ActivitySourceName,
            Sample = static (ref _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var listened = CallTelemetry.StartForClient(call, metrics, request, "m", address);
        Assert.NotNull(listened?.Activity);
        Assert.Equal("chat m", listened.Activity.DisplayName);
        listened.End(call);
        Assert.Null(listened.Activity);
    }
}
