using System.Text;
using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>
/// Routes the attempts of a client with several endpoints: the lowest priority tier with an endpoint available, then
/// at random by weight within it (equal weights: the one with the fewest attempts in flight). An endpoint that failed
/// earlier in the same call is chosen only when no other is available; one that failed in a way another attempt
/// cannot cure (a 404, a rejected key) is not chosen again in that call. After <c>context_length_exceeded</c>, only
/// endpoints with a larger context window qualify.
/// </summary>
/// <remarks>
/// Available means: breaker not open, no cooldown from a 429/503 wait, key not sidelined (see
/// <see cref="EndpointState.UnavailableUntil"/>). Thread-safe and allocation-free on the first attempt of a call.
/// </remarks>
internal sealed class EndpointRouter : IEndpointSelector
{
    private readonly EndpointTarget[] _endpoints;
    private readonly RoutingPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<double> _random;

    // endpoints: at least two, each with its EndpointTarget.State.
    public EndpointRouter(IReadOnlyList<EndpointTarget> endpoints, RoutingPolicy policy, TimeProvider time, ILogger logger, Func<double> random)
    {
        // Stable order by tier, so that a scan meets the lowest tier first.
        _endpoints = [.. endpoints.OrderBy(static e => e.Priority)];
        _policy = policy;
        _time = time;
        _logger = logger;
        _random = random;
    }

    public IReadOnlyList<EndpointTarget> Endpoints => _endpoints;

    public bool Routes => true;

    public EndpointTarget? Select(LlmCall call, EndpointTarget? skip = null)
    {
        var now = _time.GetUtcNow();
        var attempts = call.AttemptCount == 0 ? null : call.Attempts;
        var minWindow = MinimumWindow(attempts);
        if (minWindow == NoWindowLeft)
        {
            return null;
        }

        // First choice: an endpoint that has not failed in this call (failover); then one that failed in a way another
        // attempt may cure (a retry, with backoff). Within each, one with pacing budget for the call now comes first.
        if (!AnyPacer())
        {
            return Pick(now, call, attempts, skip, minWindow, allowFailed: false, requireBudget: false)
                ?? Pick(now, call, attempts, skip, minWindow, allowFailed: true, requireBudget: false);
        }

        return Pick(now, call, attempts, skip, minWindow, allowFailed: false, requireBudget: true)
            ?? Pick(now, call, attempts, skip, minWindow, allowFailed: false, requireBudget: false)
            ?? Pick(now, call, attempts, skip, minWindow, allowFailed: true, requireBudget: true)
            ?? Pick(now, call, attempts, skip, minWindow, allowFailed: true, requireBudget: false);
    }

    public TimeSpan? AvailableIn(LlmCall call)
    {
        var now = _time.GetUtcNow();
        var attempts = call.AttemptCount == 0 ? null : call.Attempts;
        var minWindow = MinimumWindow(attempts);
        if (minWindow == NoWindowLeft)
        {
            return null;
        }

        DateTimeOffset? earliest = null;
        foreach (var endpoint in _endpoints)
        {
            if (!Qualifies(endpoint, call, attempts, null, minWindow, allowFailed: true))
            {
                continue;
            }

            var until = endpoint.State!.UnavailableUntil(now) ?? now;
            if (earliest is null || until < earliest)
            {
                earliest = until;
            }
        }

        return earliest is { } first ? first - now : null;
    }

    public string DescribeAvailability()
    {
        var now = _time.GetUtcNow();
        var text = new StringBuilder();
        foreach (var endpoint in _endpoints)
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            text.Append(endpoint.Name).Append(": ").Append(endpoint.State!.WhyUnavailable(now) ?? "available");
        }

        return text.ToString();
    }

    public void Report(LlmAttempt attempt, TimeProvider time)
    {
        var endpoint = attempt.Endpoint;
        var change = endpoint.State!.Record(attempt, time.GetUtcNow(), _policy);
        if (change == EndpointChange.Sidelined)
        {
            var quota = attempt.Failure!.Kind == LlmFailureKind.QuotaExceeded;
            Log.KeySidelined(_logger, endpoint.Name, attempt.Failure.Reason,
                quota ? "its account has no quota left: add credit or raise the spending limit" : "check the key configured for this endpoint and that it may use the model",
                (long)(quota ? _policy.QuotaCooldown : _policy.UnauthorizedProbeAfter).TotalSeconds);
        }
        else if (change == EndpointChange.Restored)
        {
            Log.KeyRestored(_logger, endpoint.Name);
        }
    }

    private const int NoWindowLeft = int.MaxValue;

    // After context_length_exceeded only a larger window helps: the smallest window the next endpoint must exceed, or
    // NoWindowLeft when the endpoint that refused has no known window (nothing is known to be larger). 0: no constraint.
    private static int MinimumWindow(IReadOnlyList<LlmAttempt>? attempts)
    {
        if (attempts is null || attempts[^1].Failure is not { Kind: LlmFailureKind.ContextLengthExceeded })
        {
            return 0;
        }

        var largest = 0;
        foreach (var attempt in attempts)
        {
            if (attempt.Failure is { Kind: LlmFailureKind.ContextLengthExceeded })
            {
                if (attempt.Endpoint.ContextWindowTokens is not { } window)
                {
                    return NoWindowLeft;
                }

                largest = Math.Max(largest, window);
            }
        }

        return largest;
    }

    private bool AnyPacer()
    {
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.State!.Pacer is not null)
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasBudget(EndpointTarget endpoint, LlmCall call) =>
        endpoint.State!.Pacer is not { } pacer || pacer.HasRoomFor(pacer.Tokens is null ? 0 : TokenEstimate.Of(call));

    private static bool Candidate(DateTimeOffset now, EndpointTarget endpoint, LlmCall call, IReadOnlyList<LlmAttempt>? attempts, EndpointTarget? skip, int minWindow,
        bool allowFailed, bool requireBudget) =>
        Qualifies(endpoint, call, attempts, skip, minWindow, allowFailed) && endpoint.State!.UnavailableUntil(now) is null && (!requireBudget || HasBudget(endpoint, call));

    private EndpointTarget? Pick(DateTimeOffset now, LlmCall call, IReadOnlyList<LlmAttempt>? attempts, EndpointTarget? skip, int minWindow, bool allowFailed,
        bool requireBudget)
    {
        // Pass 1: the lowest tier with a candidate, its total weight, and whether the weights are all equal.
        var tier = int.MaxValue;
        var totalWeight = 0L;
        var count = 0;
        var firstWeight = 0;
        var equalWeights = true;
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.Priority > tier)
            {
                break;
            }

            if (!Candidate(now, endpoint, call, attempts, skip, minWindow, allowFailed, requireBudget))
            {
                continue;
            }

            if (count == 0)
            {
                tier = endpoint.Priority;
                firstWeight = endpoint.Weight;
            }

            equalWeights &= endpoint.Weight == firstWeight;
            totalWeight += endpoint.Weight;
            count++;
        }

        if (count <= 1)
        {
            return count == 0 ? null : FindNth(now, call, attempts, skip, minWindow, allowFailed, requireBudget, tier, static (_, _) => true, 0, null);
        }

        if (!equalWeights)
        {
            var target = (long)(_random() * totalWeight);
            var seen = 0L;
            EndpointTarget? last = null;
            foreach (var endpoint in _endpoints)
            {
                if (endpoint.Priority != tier || !Candidate(now, endpoint, call, attempts, skip, minWindow, allowFailed, requireBudget))
                {
                    continue;
                }

                last = endpoint;
                seen += endpoint.Weight;
                if (target < seen)
                {
                    return endpoint;
                }
            }

            return last;
        }

        // Equal weights: the fewest attempts in flight, at random among those.
        var fewest = int.MaxValue;
        var tied = 0;
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.Priority != tier || !Candidate(now, endpoint, call, attempts, skip, minWindow, allowFailed, requireBudget))
            {
                continue;
            }

            var inFlight = endpoint.State!.InFlight;
            if (inFlight < fewest)
            {
                (fewest, tied) = (inFlight, 1);
            }
            else if (inFlight == fewest)
            {
                tied++;
            }
        }

        var nth = Math.Min(tied - 1, (int)(_random() * tied));
        return FindNth(now, call, attempts, skip, minWindow, allowFailed, requireBudget, tier, static (e, fewest) => e.State!.InFlight == fewest, nth, fewest);
    }

    private EndpointTarget? FindNth(DateTimeOffset now, LlmCall call, IReadOnlyList<LlmAttempt>? attempts, EndpointTarget? skip, int minWindow, bool allowFailed,
        bool requireBudget, int tier, Func<EndpointTarget, int, bool> filter, int nth, int? fewest)
    {
        EndpointTarget? last = null;
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.Priority != tier || !Candidate(now, endpoint, call, attempts, skip, minWindow, allowFailed, requireBudget) || !filter(endpoint, fewest ?? 0))
            {
                continue;
            }

            last = endpoint;
            if (nth-- == 0)
            {
                return endpoint;
            }
        }

        // The in-flight counts moved between the passes: any candidate will do.
        return last;
    }

    private static bool Qualifies(EndpointTarget endpoint, LlmCall call, IReadOnlyList<LlmAttempt>? attempts, EndpointTarget? skip, int minWindow, bool allowFailed)
    {
        if (ReferenceEquals(endpoint, skip) || (minWindow > 0 && (endpoint.ContextWindowTokens ?? 0) <= minWindow) || ContextPreflight.ClearlyExceeds(call, endpoint))
        {
            return false;
        }

        return attempts is null || Standing(endpoint, attempts) switch
        {
            CallStanding.NotTried or CallStanding.Succeeded => true,
            CallStanding.FailedRetryably => allowFailed,
            _ => false,
        };
    }

    /// <summary>How the endpoint fared in this call: its last attempt there decides.</summary>
    private static CallStanding Standing(EndpointTarget endpoint, IReadOnlyList<LlmAttempt> attempts)
    {
        for (var i = attempts.Count - 1; i >= 0; i--)
        {
            var attempt = attempts[i];
            if (!ReferenceEquals(attempt.Endpoint, endpoint))
            {
                continue;
            }

            if (attempt.Failure is not { } failure)
            {
                return CallStanding.Succeeded;
            }

            // A window too small is handled by MinimumWindow; the same endpoint never helps with it.
            return failure.Retryable && failure.Kind != LlmFailureKind.ContextLengthExceeded ? CallStanding.FailedRetryably : CallStanding.FailedForGood;
        }

        return CallStanding.NotTried;
    }

    /// <summary>Whether <paramref name="endpoint"/> has failed in this call (the next attempt there is a retry, with backoff, not a failover).</summary>
    public static bool FailedIn(EndpointTarget endpoint, IReadOnlyList<LlmAttempt> attempts) =>
        Standing(endpoint, attempts) is CallStanding.FailedRetryably or CallStanding.FailedForGood;

    private enum CallStanding
    {
        NotTried,
        Succeeded,
        FailedRetryably,
        FailedForGood,
    }

    public override string ToString() => string.Join(", ", _endpoints.Select(static e => e.Name));
}
