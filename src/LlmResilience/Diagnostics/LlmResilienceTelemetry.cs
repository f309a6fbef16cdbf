using System.Diagnostics.Metrics;

namespace LlmResilience;

/// <summary>
/// The names LlmResilience publishes metrics under, for OpenTelemetry (<c>AddMeter(LlmResilienceTelemetry.MeterName)</c>)
/// or any <see cref="MeterListener"/>. The meter comes from the container's <see cref="IMeterFactory"/> when there is
/// one (so each service provider has its own), otherwise each client owns one. Counters are only touched on failure
/// paths: the happy path records nothing.
/// </summary>
public static class LlmResilienceTelemetry
{
    /// <summary>The name of the <see cref="Meter"/>.</summary>
    public const string MeterName = "LlmResilience";

    /// <summary>Counter of retries, tagged <c>llm.failure_kind</c> (the <see cref="LlmFailureKind"/> of the failed attempt), <c>server.address</c>, <c>server.port</c> and <c>http.response.status_code</c> when a response arrived.</summary>
    public const string RetriesCounterName = "llmresilience.retries";

    /// <summary>Counter of calls that failed (with an <see cref="LlmException"/> thrown, or under another client with an error response returned), tagged <c>llm.failure_kind</c>, <c>server.address</c> and <c>server.port</c>.</summary>
    public const string FailuresCounterName = "llmresilience.failures";

    /// <summary>Counter of connection pools dropped after repeated transport failures, tagged <c>server.address</c> and <c>server.port</c>.</summary>
    public const string PoolRecyclesCounterName = "llmresilience.pool.recycles";

    /// <summary>The tag that names the endpoint (<see cref="LlmEndpoint.Name"/>, or the base address of a client with one endpoint) on every measurement of a call.</summary>
    public const string EndpointTagName = "llm.endpoint";
}
