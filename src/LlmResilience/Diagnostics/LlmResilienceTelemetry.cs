using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace LlmResilience;

/// <summary>
/// The names LlmResilience publishes metrics under, for OpenTelemetry (<c>AddMeter(LlmResilienceTelemetry.MeterName)</c>)
/// or any <see cref="MeterListener"/>. Counters are only touched on failure paths: the happy path records nothing.
/// </summary>
public static class LlmResilienceTelemetry
{
    /// <summary>The name of the <see cref="Meter"/>.</summary>
    public const string MeterName = "LlmResilience";

    /// <summary>Counter of retries, tagged <c>llm.failure_kind</c> (the <see cref="LlmFailureKind"/> of the failed attempt), <c>server.address</c>, <c>server.port</c> and <c>http.response.status_code</c> when a response arrived.</summary>
    public const string RetriesCounterName = "llmresilience.retries";

    /// <summary>Counter of calls that ended in an <see cref="LlmException"/> from the pipeline, tagged <c>llm.failure_kind</c>, <c>server.address</c> and <c>server.port</c>.</summary>
    public const string FailuresCounterName = "llmresilience.failures";

    /// <summary>Counter of connection pools dropped after repeated transport failures.</summary>
    public const string PoolRecyclesCounterName = "llmresilience.pool.recycles";

    internal static readonly Meter Meter = new(MeterName, typeof(LlmResilienceTelemetry).Assembly.GetName().Version?.ToString());
    internal static readonly Counter<long> Retries = Meter.CreateCounter<long>(RetriesCounterName, description: "Attempts that failed and were retried.");
    internal static readonly Counter<long> Failures = Meter.CreateCounter<long>(FailuresCounterName, description: "Calls that failed after the pipeline gave up.");
    internal static readonly Counter<long> PoolRecycles = Meter.CreateCounter<long>(PoolRecyclesCounterName, description: "Connection pools dropped after repeated transport failures.");

    internal static void RecordRetry(LlmFailureKind kind, int? statusCode, Uri? endpoint)
    {
        if (Retries.Enabled)
        {
            var tags = new TagList { { "llm.failure_kind", kind.ToString() } };
            AddServer(ref tags, endpoint);
            if (statusCode is { } status)
            {
                tags.Add("http.response.status_code", status);
            }

            Retries.Add(1, tags);
        }
    }

    internal static void RecordFailure(LlmFailureKind kind, Uri? endpoint)
    {
        if (Failures.Enabled)
        {
            var tags = new TagList { { "llm.failure_kind", kind.ToString() } };
            AddServer(ref tags, endpoint);
            Failures.Add(1, tags);
        }
    }

    private static void AddServer(ref TagList tags, Uri? endpoint)
    {
        if (endpoint is { IsAbsoluteUri: true })
        {
            tags.Add("server.address", endpoint.Host);
            tags.Add("server.port", endpoint.Port);
        }
    }
}
