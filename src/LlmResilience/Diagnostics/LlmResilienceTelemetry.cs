using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace LlmResilience;

/// <summary>
/// The names LlmResilience publishes traces and metrics under, for OpenTelemetry
/// (<c>AddSource(LlmResilienceTelemetry.ActivitySourceName)</c>, <c>AddMeter(LlmResilienceTelemetry.MeterName)</c>) or any
/// <see cref="ActivityListener"/> / <see cref="MeterListener"/>. The meter comes from the container's
/// <see cref="IMeterFactory"/> when there is one (so each service provider has its own), otherwise each client owns one.
/// Nothing is measured or traced unless something listens: a call checks once, at its start.
/// </summary>
/// <remarks>
/// Spans and the <c>gen_ai.*</c> metrics follow the OpenTelemetry semantic conventions for generative AI clients
/// (<c>gen_ai.operation.name</c>, <c>gen_ai.provider.name</c>, <c>gen_ai.request.model</c>, ...). Prompt and answer
/// text are never recorded; the API key never is.
/// </remarks>
public static class LlmResilienceTelemetry
{
    /// <summary>The name of the <see cref="Meter"/>.</summary>
    public const string MeterName = "LlmResilience";

    /// <summary>
    /// The name of the <see cref="ActivitySource"/>: one Activity per call, kind Client, named <c>chat {model}</c>, with
    /// the runtime's HTTP client spans (one per attempt) nested under it and an event per retry, failover and wait.
    /// </summary>
    public const string ActivitySourceName = "LlmResilience";

    /// <summary>Counter of retries, tagged <c>llm.failure_kind</c> (the <see cref="LlmFailureKind"/> of the failed attempt), <c>server.address</c>, <c>server.port</c> and <c>http.response.status_code</c> when a response arrived.</summary>
    public const string RetriesCounterName = "llmresilience.retries";

    /// <summary>Counter of calls that failed (with an <see cref="LlmException"/> thrown, or under another client with an error response returned), tagged <c>llm.failure_kind</c>, <c>server.address</c> and <c>server.port</c>.</summary>
    public const string FailuresCounterName = "llmresilience.failures";

    /// <summary>Counter of connection pools dropped after repeated transport failures, tagged <c>server.address</c> and <c>server.port</c>.</summary>
    public const string PoolRecyclesCounterName = "llmresilience.pool.recycles";

    /// <summary>The tag that names the endpoint (<see cref="LlmEndpoint.Name"/>, or the base address of a client with one endpoint) on every measurement of a call.</summary>
    public const string EndpointTagName = "llm.endpoint";

    /// <summary>Histogram of call durations in seconds (<c>gen_ai.client.operation.duration</c>), with the conventions' attributes and <c>error.type</c> on failure.</summary>
    public const string OperationDurationName = "gen_ai.client.operation.duration";

    /// <summary>Histogram of tokens per call (<c>gen_ai.client.token.usage</c>), tagged <c>gen_ai.token.type</c> <c>input</c> or <c>output</c>; recorded when the answer reports usage.</summary>
    public const string TokenUsageName = "gen_ai.client.token.usage";

    /// <summary>Histogram of the time from the call's start to its first streamed chunk in seconds (<c>gen_ai.client.operation.time_to_first_chunk</c>); streams only.</summary>
    public const string TimeToFirstChunkName = "gen_ai.client.operation.time_to_first_chunk";

    /// <summary>Counter of attempts, tagged <c>llm.attempt.outcome</c> (<c>succeeded</c>, <c>failed</c>, <c>attempt_timeout</c>, <c>total_timeout</c>, <c>cancelled</c>), <c>llm.failure_kind</c> when one failed, and the endpoint.</summary>
    public const string AttemptsCounterName = "llmresilience.attempts";

    /// <summary>Histogram of the waits before retries in seconds, tagged <c>llm.retry.source</c> (<c>server_hint</c>, <c>backoff</c>, <c>immediate</c>, <c>failover</c>, <c>endpoint_cooldown</c>).</summary>
    public const string RetryDelayName = "llmresilience.retry.delay";

    /// <summary>Counter of stalled streams, tagged <c>llm.stall</c>: <c>first_event</c> (no data event within FirstTokenTimeout) or <c>idle</c> (no data for StreamIdleTimeout after the first event).</summary>
    public const string StreamStallsCounterName = "llmresilience.stream.stalls";

    /// <summary>Counter of circuit breaker transitions, tagged with the endpoint and <c>llm.breaker.state</c> (<c>open</c>, <c>half_open</c>, <c>closed</c>).</summary>
    public const string BreakerTransitionsCounterName = "llmresilience.breaker.transitions";
}
