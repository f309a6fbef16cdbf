using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace LlmResilience;

/// <summary>
/// Pings one client's endpoints (<c>GET {base}models</c>, one attempt each, through the client's own HttpClient) and
/// keeps the verdict for <see cref="LlmHealthCheckOptions.CacheDuration"/>. One per check registration (a keyed
/// singleton): probes arriving while a ping runs wait for it, probes within the cache period get its result, so a
/// probe storm sends at most one ping per endpoint per period.
/// </summary>
internal sealed class LlmHealthProbe(IServiceProvider services, string clientName, LlmHealthCheckOptions options)
{
    private readonly TimeProvider _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private Task<ProbeResult>? _ping;
    private DateTimeOffset _expires;

    /// <summary>The cached verdict, or the running ping's, or a new ping's.</summary>
    public Task<ProbeResult> GetAsync()
    {
        lock (_lock)
        {
            if (_ping is null || (_ping.IsCompleted && _time.GetUtcNow() >= _expires))
            {
                // Not bound to the asking probe's token: others may be waiting for the same ping. The ping has its own timeout.
                _ping = PingAllAsync();
            }

            return _ping;
        }
    }

    private async Task<ProbeResult> PingAllAsync()
    {
        await Task.Yield(); // the lock is released before any work
        ProbeResult result;
        try
        {
            var client = services.GetRequiredService<IOptionsMonitor<LlmClientOptions>>().Get(clientName);
            var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(LlmResilienceServiceCollectionExtensions.HttpClientNameOf(clientName));
            var targets = Targets(client);
            var pings = new Task<EndpointResult>[targets.Count];
            for (var i = 0; i < targets.Count; i++)
            {
                pings[i] = PingAsync(http, targets[i].Target, targets[i].BaseAddress);
            }

            result = Combine(await Task.WhenAll(pings).ConfigureAwait(false));
        }
        catch (Exception exception) when (exception is OptionsValidationException or InvalidOperationException)
        {
            result = new ProbeResult(HealthStatus.Unhealthy, $"The LLM client '{Show(clientName)}' cannot be pinged: {exception.Message}", new Dictionary<string, object>());
        }

        lock (_lock)
        {
            _expires = _time.GetUtcNow() + options.CacheDuration;
        }

        return result;
    }

    /// <summary>The client's endpoints, with their base address, credential and (several endpoints) the state its router keeps.</summary>
    private List<(EndpointTarget Target, Uri BaseAddress)> Targets(LlmClientOptions client)
    {
        if (client.Endpoints is not { Count: > 0 })
        {
            var address = EndpointTargets.WithTrailingSlash(client.BaseAddress!);
            var header = EndpointTargets.HeaderFor(LlmApiKeyStyle.Auto, address, fromProvider: false);
            var key = string.IsNullOrEmpty(client.ApiKey) ? null : client.ApiKey;
            var target = new EndpointTarget(Endpoints.Describe(address))
            {
                CredentialHeader = key is null ? null : header,
                CredentialValue = key is null ? null : header == EndpointTarget.AuthorizationHeader ? "Bearer " + key : key,
                Secret = key,
            };
            return [(target, address)];
        }

        // The same targets (and so the same endpoint states, breakers included) as the client's own router.
        var selector = EndpointTargets.ForClient(client, services.GetRequiredService<IEndpointStateStore>(), _time, NullLogger.Instance, services.GetService<LlmMetrics>());
        var targets = selector switch
        {
            EndpointRouter router => router.Endpoints,
            SingleEndpointSelector single => [single.Endpoint],
            _ => [],
        };
        return [.. targets.Select(static t => (t, t.BaseAddress!))];
    }

    private async Task<EndpointResult> PingAsync(HttpClient http, EndpointTarget target, Uri baseAddress)
    {
        var started = _time.GetTimestamp();
        // One attempt, bounded by Timeout; sent as the request names it (its own selector and state, so a failed ping
        // neither opens the client's breakers nor counts as the client's failure in logs and metrics).
        using var call = new LlmCall(clientName, _time, options.Timeout, ownedByPipeline: false)
        {
            SingleAttempt = true,
            Selector = new SingleEndpointSelector(new EndpointTarget(target.Name), new InMemoryEndpointStateStore()),
        };
        using var request = new CallRequestMessage(HttpMethod.Get, EndpointTargets.Under(baseAddress, "models"), call);
        LlmException? failure = null;
        int? status = null;
        try
        {
            var (header, value, secret) = await CredentialAsync(target).ConfigureAwait(false);
            call.Secret = secret;
            if (header is not null)
            {
                request.Headers.TryAddWithoutValidation(header, value);
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            status = (int)response.StatusCode;
        }
        catch (LlmException exception)
        {
            failure = exception;
        }
        catch (HttpRequestException exception)
        {
            // Only without the pipeline under the client (a test double): classified like any attempt.
            failure = new LlmException(LlmFailures.FromException(exception).Kind, TransportFailures.Describe(exception), exception);
        }

        var attempt = call.LastAttempt;
        var latency = attempt is { Duration: { } d } && d > TimeSpan.Zero ? d : _time.GetElapsedTime(started);
        return Judge(target, baseAddress, attempt, status ?? attempt?.StatusCode, failure, latency);
    }

    private static async ValueTask<(string? Header, string? Value, string? Secret)> CredentialAsync(EndpointTarget target)
    {
        if (target.CredentialProvider is null)
        {
            return (target.CredentialHeader, target.CredentialValue, target.Secret);
        }

        var key = await target.CredentialProvider(CancellationToken.None).ConfigureAwait(false);
        return (target.CredentialHeader, target.Bearer ? "Bearer " + key : key, key);
    }

    private EndpointResult Judge(EndpointTarget target, Uri baseAddress, LlmAttempt? attempt, int? status, LlmException? thrown, TimeSpan latency)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["endpoint"] = target.Name,
            ["base_address"] = Endpoints.Describe(baseAddress),
            ["latency_ms"] = (long)latency.TotalMilliseconds,
        };
        if (status is { } code)
        {
            data["http_status"] = code;
        }

        if (attempt?.RequestId is { } requestId)
        {
            data["request_id"] = requestId;
        }

        if (attempt?.RateLimits is { } limits)
        {
            AddIfPresent(data, "ratelimit_remaining_requests", limits.RemainingRequests);
            AddIfPresent(data, "ratelimit_remaining_tokens", limits.RemainingTokens);
            AddIfPresent(data, "ratelimit_limit_requests", limits.LimitRequests);
            AddIfPresent(data, "ratelimit_limit_tokens", limits.LimitTokens);
        }

        var now = _time.GetUtcNow();
        if (target.State is { } state)
        {
            data["breaker"] = state.BreakerState.ToString();
            AddIfPresent(data, "unavailable", state.WhyUnavailable(now));
        }

        var kind = attempt?.Failure?.Kind ?? thrown?.Kind;
        var reason = attempt?.Failure?.Reason ?? thrown?.Message;
        var where = $"{target.Name}: GET models";
        var ms = ((long)latency.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        if (kind is { } failed)
        {
            data["failure"] = failed.ToString();
            var verdict = failed switch
            {
                LlmFailureKind.RateLimited => HealthStatus.Degraded,
                LlmFailureKind.BadRequest when status == 404 => HealthStatus.Degraded,
                _ => HealthStatus.Unhealthy,
            };
            var what = failed switch
            {
                LlmFailureKind.Unauthorized => "unauthorized: check the endpoint's API key",
                LlmFailureKind.QuotaExceeded => "out of quota (insufficient_quota): add credit or raise the limit",
                LlmFailureKind.RateLimited => "rate limited",
                LlmFailureKind.BadRequest when status == 404 => "no models list at this address (404): check BaseAddress, or the server may not serve GET models",
                LlmFailureKind.ConnectFailure or LlmFailureKind.ResetBeforeHeaders or LlmFailureKind.Timeout => "unreachable",
                _ => "failing",
            };
            return new EndpointResult(verdict, $"{where} {what} ({reason}) after {ms} ms", data);
        }

        if (latency > options.DegradedLatency)
        {
            return new EndpointResult(HealthStatus.Degraded, $"{where} slow: {ms} ms, above DegradedLatency ({(long)options.DegradedLatency.TotalMilliseconds} ms)", data);
        }

        if (target.State is { } routed && (routed.BreakerState is not CircuitState.Closed || routed.UnavailableUntil(now) is not null))
        {
            return new EndpointResult(HealthStatus.Degraded,
                $"{where} answered in {ms} ms, but the client keeps it out of rotation ({routed.WhyUnavailable(now) ?? $"circuit {routed.BreakerState}"})", data);
        }

        return new EndpointResult(HealthStatus.Healthy, $"{where} answered HTTP {status} in {ms} ms", data);
    }

    /// <summary>One endpoint: its verdict and flat data. Several: Healthy when all are, Unhealthy when none works, else Degraded; data prefixed by endpoint.</summary>
    private static ProbeResult Combine(IReadOnlyList<EndpointResult> results)
    {
        if (results.Count == 1)
        {
            return new ProbeResult(results[0].Status, results[0].Description, results[0].Data);
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["endpoints"] = results.Count };
        foreach (var result in results)
        {
            foreach (var (key, value) in result.Data)
            {
                data[$"{result.Data["endpoint"]}.{key}"] = value;
            }
        }

        var status = results.All(static r => r.Status == HealthStatus.Healthy) ? HealthStatus.Healthy
            : results.All(static r => r.Status == HealthStatus.Unhealthy) ? HealthStatus.Unhealthy
            : HealthStatus.Degraded;
        return new ProbeResult(status, string.Join("; ", results.Select(static r => r.Description)), data);
    }

    private static void AddIfPresent(Dictionary<string, object> data, string key, string? value)
    {
        if (value is not null)
        {
            data[key] = value;
        }
    }

    private static string Show(string name) => name.Length == 0 ? "default" : name;

    private sealed record EndpointResult(HealthStatus Status, string Description, IReadOnlyDictionary<string, object> Data);
}

/// <summary>A ping's verdict on a client.</summary>
internal sealed record ProbeResult(HealthStatus Status, string Description, IReadOnlyDictionary<string, object> Data);
