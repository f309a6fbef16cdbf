using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace LlmResilience;

/// <summary>
/// The instruments of one client (or one service provider): created from <see cref="IMeterFactory"/> when DI has
/// one, so that meters are per container and tests need not filter around other tests' measurements; otherwise a
/// meter of its own, disposed with the owner.
/// </summary>
internal sealed class LlmMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _poolRecycles;
    private readonly Counter<long> _breakerTransitions;

    public LlmMetrics(IMeterFactory? meterFactory)
    {
        var version = typeof(LlmMetrics).Assembly.GetName().Version?.ToString();
        if (meterFactory is not null)
        {
            _meter = meterFactory.Create(new MeterOptions(LlmResilienceTelemetry.MeterName) { Version = version });
        }
        else
        {
            _meter = new Meter(LlmResilienceTelemetry.MeterName, version);
            _ownsMeter = true;
        }

        _retries = _meter.CreateCounter<long>(LlmResilienceTelemetry.RetriesCounterName, description: "Attempts that failed and were retried.");
        _failures = _meter.CreateCounter<long>(LlmResilienceTelemetry.FailuresCounterName, description: "Calls that failed after the pipeline gave up.");
        _poolRecycles = _meter.CreateCounter<long>(LlmResilienceTelemetry.PoolRecyclesCounterName, description: "Connection pools dropped after repeated transport failures.");
        _breakerTransitions = _meter.CreateCounter<long>(LlmResilienceTelemetry.BreakerTransitionsCounterName, description: "Circuit breaker transitions of an endpoint.");

        // The call's instruments: read by CallTelemetry at the end of each call that something listens to.
        OperationDuration = _meter.CreateHistogram(LlmResilienceTelemetry.OperationDurationName, "s", "GenAI operation duration.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAiConventions.DurationBuckets });
        TokenUsage = _meter.CreateHistogram(LlmResilienceTelemetry.TokenUsageName, "{token}", "Number of input and output tokens used.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = GenAiConventions.TokenBuckets });
        TimeToFirstChunk = _meter.CreateHistogram(LlmResilienceTelemetry.TimeToFirstChunkName, "s",
            "Time to receive the first chunk, from when the call was made to when its first chunk arrived in the response stream.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAiConventions.DurationBuckets });
        Attempts = _meter.CreateCounter<long>(LlmResilienceTelemetry.AttemptsCounterName, "{attempt}", "Attempts sent, by how each ended.");
        RetryDelay = _meter.CreateHistogram(LlmResilienceTelemetry.RetryDelayName, "s", "The wait before a retry, by where it came from.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAiConventions.RetryDelayBuckets });
        StreamStalls = _meter.CreateCounter<long>(LlmResilienceTelemetry.StreamStallsCounterName, "{stream}", "Streams that stalled: no first data event in time, or no data for StreamIdleTimeout.");
    }

    public Histogram<double> OperationDuration { get; }

    public Histogram<long> TokenUsage { get; }

    public Histogram<double> TimeToFirstChunk { get; }

    public Counter<long> Attempts { get; }

    public Histogram<double> RetryDelay { get; }

    public Counter<long> StreamStalls { get; }

    /// <summary>Whether any per-call instrument has a listener (read once per call, at its start).</summary>
    public bool CallInstrumentsEnabled =>
        OperationDuration.Enabled || TokenUsage.Enabled || TimeToFirstChunk.Enabled || Attempts.Enabled || RetryDelay.Enabled || StreamStalls.Enabled;

    public void RecordBreakerTransition(string endpointName, string state)
    {
        if (_breakerTransitions.Enabled)
        {
            _breakerTransitions.Add(1, new KeyValuePair<string, object?>(LlmResilienceTelemetry.EndpointTagName, endpointName),
                new KeyValuePair<string, object?>(GenAiConventions.BreakerState, state));
        }
    }

    public Meter Meter => _meter;

    public void RecordRetry(AttemptFailure failure, Uri? endpoint, string? endpointName = null)
    {
        if (_retries.Enabled)
        {
            var tags = new TagList { { "llm.failure_kind", failure.Kind.ToString() } };
            AddServer(ref tags, endpoint);
            AddEndpoint(ref tags, endpointName);
            if (failure.StatusCode is { } status)
            {
                tags.Add("http.response.status_code", status);
            }

            _retries.Add(1, tags);
        }
    }

    public void RecordFailure(LlmFailureKind kind, Uri? endpoint, string? endpointName = null)
    {
        if (_failures.Enabled)
        {
            var tags = new TagList { { "llm.failure_kind", kind.ToString() } };
            AddServer(ref tags, endpoint);
            AddEndpoint(ref tags, endpointName);
            _failures.Add(1, tags);
        }
    }

    public void RecordPoolRecycle(Uri? endpoint)
    {
        if (_poolRecycles.Enabled)
        {
            var tags = default(TagList);
            AddServer(ref tags, endpoint);
            _poolRecycles.Add(1, tags);
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static void AddEndpoint(ref TagList tags, string? endpointName)
    {
        if (endpointName is not null)
        {
            tags.Add(LlmResilienceTelemetry.EndpointTagName, endpointName);
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
