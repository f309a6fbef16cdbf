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
