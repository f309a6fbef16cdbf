using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace LlmResilience;

/// <summary>
/// What is known about one endpoint: consecutive failures and the last one, until when the server asked not to be
/// called, whether its key is sidelined, its circuit breaker, and how many attempts are in flight to it. Thread-safe;
/// a success on a healthy endpoint writes nothing.
/// </summary>
internal sealed class EndpointState
{
    private readonly Lock _lock = new();
    private int _consecutiveFailures;
    private int _inFlight;
    private LlmFailureKind _lastFailureKind;
    private int? _lastStatus;
    private DateTimeOffset _lastFailureAt;
    private DateTimeOffset _cooldownUntil;
    private DateTimeOffset _sidelinedUntil;
    private LlmFailureKind _sidelinedFor;
    private DateTimeOffset _breakerOpenUntil;
    private CircuitBreakerStateProvider? _breakerState;
    private DateTimeOffset _sharedUntil;
    private EndpointOutage _sharedReason;
    private LlmFailureKind _cooldownKind;
    private string? _cooldownModel;
    private TimeSpan _cooldownHint;

    // The latest end of any outage above (UTC ticks), written under the lock, read without it: a call on a healthy
    // endpoint learns that nothing holds it off from one field read, with no lock that 32 callers would contend for.
    private long _outageEndTicks;

    /// <summary>A state that stays in this process.</summary>
    public EndpointState()
    {
    }

    /// <summary>A state whose outages are shared with a fleet through <paramref name="sharing"/>, under <paramref name="key"/>.</summary>
    public EndpointState(string key, IEndpointStateSharing sharing, ISharedBudget? budget = null)
    {
        Key = key;
        Sharing = sharing;
        Budget = budget;
    }

    /// <summary>The fleet's pacing budget this endpoint's pacer takes from first; <see langword="null"/> for local pacing only.</summary>
    public ISharedBudget? Budget { get; }

    /// <summary>The endpoint's <see cref="EndpointTarget.StateKey"/>, when the state is shared.</summary>
    public string? Key { get; }

    /// <summary>Where outages learned here are published; <see langword="null"/> for a process-local state.</summary>
    public IEndpointStateSharing? Sharing { get; }

    /// <summary>
    /// What the fleet knows: the endpoint is out until <paramref name="until"/> because of <paramref name="reason"/>
    /// (<see cref="DateTimeOffset.MinValue"/> when it is not). Replaces the previous shared view; local knowledge is kept.
    /// </summary>
    public void ApplyShared(DateTimeOffset until, EndpointOutage reason)
    {
        lock (_lock)
        {
            _sharedUntil = until;
            _sharedReason = reason;
            ExtendOutage(until);
        }
    }

    /// <summary>What this process learned itself, for republishing after the fleet's store was unreachable.</summary>
    public (DateTimeOffset Cooldown, DateTimeOffset Sidelined, DateTimeOffset BreakerOpen) LocalOutages()
    {
        lock (_lock)
        {
            return (_cooldownUntil, _sidelinedUntil, _breakerOpenUntil);
        }
    }

    /// <summary>Failed attempts since the last success.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>Attempts to this endpoint running now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Until when the endpoint asked (with a wait hint on an error) not to be called; <see cref="DateTimeOffset.MinValue"/> when it did not.</summary>
    public DateTimeOffset CooldownUntil
    {
        get
        {
            lock (_lock)
            {
                return _cooldownUntil;
            }
        }
    }

    /// <summary>The last failure's kind, status and time, when there was one since the last success.</summary>
    public (LlmFailureKind Kind, int? Status, DateTimeOffset At)? LastFailure
    {
        get
        {
            lock (_lock)
            {
                return _consecutiveFailures == 0 ? null : (_lastFailureKind, _lastStatus, _lastFailureAt);
            }
        }
    }

    /// <summary>The endpoint's budget, once limits are configured or seen in an answer's headers; <see langword="null"/> until then.</summary>
    public EndpointPacer? Pacer { get; private set; }

    /// <summary>Paces the endpoint to configured limits (the first router or client that configures it wins).</summary>
    public void ConfigurePacing(int? requestsPerMinute, int? tokensPerMinute, TimeProvider time)
    {
        if (requestsPerMinute is null && tokensPerMinute is null)
        {
            return;
        }

        lock (_lock)
        {
            Pacer ??= new EndpointPacer(requestsPerMinute, tokensPerMinute, time, Budget, Key);
        }
    }

    /// <summary>Learns the endpoint's limits and what is left of them from an answer's <c>x-ratelimit-*</c> headers.</summary>
    public void Learn(RateLimitHeaders headers, DateTimeOffset now, TimeProvider time)
    {
        var pacer = Pacer;
        if (pacer is null)
        {
            if (!EndpointPacer.IsWorthLearning(headers))
            {
                return;
            }

            lock (_lock)
            {
                pacer = Pacer ??= new EndpointPacer(null, null, time, Budget, Key);
            }
        }

        pacer.Learn(headers, now);
        if (Sharing is not null && pacer.ExhaustedUntil(now) is { } exhausted)
        {
            Share(EndpointOutage.RateLimitExhausted, exhausted);
        }
    }

    /// <summary>The endpoint's circuit breaker (Polly's), once a router set it up; every attempt to the endpoint runs through it.</summary>
    public ResiliencePipeline<HttpResponseMessage>? Breaker { get; private set; }

    /// <summary>The breaker's state as Polly sees it (<see cref="CircuitState.Closed"/> without a breaker).</summary>
    public CircuitState BreakerState => _breakerState?.CircuitState ?? CircuitState.Closed;

    public void AttemptStarted() => Interlocked.Increment(ref _inFlight);

    public void AttemptEnded() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Sets up the endpoint's breaker the first time a router needs it (later routers of the same endpoint share it).</summary>
    public void EnsureBreaker(LlmCircuitBreakerOptions options, TimeProvider time, ILogger logger, string endpointName, LlmMetrics? metrics = null)
    {
        lock (_lock)
        {
            if (Breaker is not null)
            {
                return;
            }

            _breakerState = new CircuitBreakerStateProvider();
            Breaker = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = "LlmResilience.Endpoint", InstanceName = endpointName, TimeProvider = time }
                .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
                {
                    Name = "CircuitBreaker",
                    FailureRatio = options.FailureRatio,
                    MinimumThroughput = options.MinimumThroughput,
                    SamplingDuration = options.SamplingDuration,
                    BreakDuration = options.BreakDuration,
                    StateProvider = _breakerState,
                    ShouldHandle = static args => new ValueTask<bool>(
                        args.Context.Properties.TryGetValue(PipelineKeys.Attempt, out var attempt) && CountsAgainstBreaker(attempt)),
                    OnOpened = args =>
                    {
                        DateTimeOffset until;
                        lock (_lock)
                        {
                            until = _breakerOpenUntil = time.GetUtcNow() + args.BreakDuration;
                            ExtendOutage(until);
                        }

                        Share(EndpointOutage.BreakerOpen, until);

                        Log.BreakerOpened(logger, endpointName, (long)args.BreakDuration.TotalMilliseconds);
                        metrics?.RecordBreakerTransition(endpointName, "open");
                        return default;
                    },
                    OnHalfOpened = _ =>
                    {
                        metrics?.RecordBreakerTransition(endpointName, "half_open");
                        return default;
                    },
                    OnClosed = _ =>
                    {
                        lock (_lock)
                        {
                            _breakerOpenUntil = DateTimeOffset.MinValue;
                        }

                        Withdraw(EndpointOutage.BreakerOpen);

                        Log.BreakerClosed(logger, endpointName);
                        metrics?.RecordBreakerTransition(endpointName, "closed");
                        return default;
                    },
                })
                .Build();
        }
    }

    /// <summary>Transport failures, attempt timeouts, 5xx and proxy errors: the endpoint's health, not the request's fault nor a rate limit.</summary>
    internal static bool CountsAgainstBreaker(LlmAttempt attempt) =>
        attempt.End is AttemptEnd.Failed or AttemptEnd.AttemptTimedOut && attempt.Failure is { } failure && failure.Kind is LlmFailureKind.ConnectFailure
            or LlmFailureKind.ResetBeforeHeaders or LlmFailureKind.Timeout or LlmFailureKind.ServerError or LlmFailureKind.ProxyUpstreamFailure;

    /// <summary>
    /// When the endpoint may be called again, or <see langword="null"/> when it may be now: the latest of its cooldown,
    /// its sidelined key and its open breaker.
    /// </summary>
    public DateTimeOffset? UnavailableUntil(DateTimeOffset now)
    {
        lock (_lock)
        {
            var until = _cooldownUntil;
            if (_sidelinedUntil > until)
            {
                until = _sidelinedUntil;
            }

            if (_breakerOpenUntil > until)
            {
                until = _breakerOpenUntil;
            }

            if (Pacer?.ExhaustedUntil(now) is { } exhausted && exhausted > until)
            {
                until = exhausted;
            }

            if (_sharedUntil > until)
            {
                until = _sharedUntil;
            }

            return until > now ? until : null;
        }
    }

    /// <summary>
    /// For an endpoint with nowhere else to go (a client's only one): until when it is held off by a wait its server
    /// asked for (a 429/503 hint), a sidelined key, an open breaker or what the fleet shared, and the failure kind that
    /// says why; <see langword="null"/> when nothing holds it off. Pacing (budgets, <c>x-ratelimit-remaining</c> at 0) is
    /// the pacer's to wait for. Lock-free when nothing holds it off.
    /// </summary>
    /// <param name="now">The time to judge at.</param>
    /// <param name="model">
    /// The model the call asks for, when known. A wait learned here on a call for another known model does not hold it:
    /// providers limit per model (a wait shared by the fleet holds every model; it does not say which).
    /// </param>
    /// <param name="maxHint">
    /// The longest wait hint that holds calls (the client's MaxRetryAfter): a longer one failed the call that was told at
    /// once, with RetryAfter for its caller to honour, and does not hold the others (a fleet's wait holds once it is
    /// within it).
    /// </param>
    public (DateTimeOffset Until, LlmFailureKind Kind)? HeldOff(DateTimeOffset now, string? model, TimeSpan maxHint)
    {
        if (Volatile.Read(ref _outageEndTicks) <= now.UtcTicks)
        {
            return null;
        }

        lock (_lock)
        {
            (DateTimeOffset Until, LlmFailureKind Kind)? held = null;
            void Consider(DateTimeOffset until, LlmFailureKind kind)
            {
                if (until > now && (held is null || until > held.Value.Until))
                {
                    held = (until, kind);
                }
            }

            if (_cooldownHint <= maxHint && (model is null || _cooldownModel is null || string.Equals(model, _cooldownModel, StringComparison.Ordinal)))
            {
                Consider(_cooldownUntil, _cooldownKind);
            }

            Consider(_sidelinedUntil, _sidelinedFor);
            Consider(_breakerOpenUntil, LlmFailureKind.CircuitOpen);
            if (_sharedUntil - now <= maxHint)
            {
                Consider(_sharedUntil, _sharedReason is EndpointOutage.Cooldown or EndpointOutage.RateLimitExhausted ? LlmFailureKind.RateLimited : LlmFailureKind.CircuitOpen);
            }

            return held;
        }
    }

    /// <summary>Why the endpoint is unavailable at <paramref name="now"/>, for a message; <see langword="null"/> when it is available.</summary>
    public string? WhyUnavailable(DateTimeOffset now)
    {
        lock (_lock)
        {
            var reasons = new List<string>(3);
            if (_breakerOpenUntil > now)
            {
                reasons.Add($"circuit open after {_consecutiveFailures} failure(s) in a row, the last {Describe(_lastFailureKind, _lastStatus)}, for {Seconds(_breakerOpenUntil - now)} more");
            }

            if (_sidelinedUntil > now)
            {
                reasons.Add(_sidelinedFor == LlmFailureKind.QuotaExceeded
                    ? $"its key is out of quota (insufficient_quota), left out for {Seconds(_sidelinedUntil - now)} more"
                    : $"its key was rejected (HTTP {_lastStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "401/403"}), probed again in {Seconds(_sidelinedUntil - now)}");
            }

            if (Pacer?.ExhaustedUntil(now) is { } exhausted)
            {
                reasons.Add($"its rate limit is used up (x-ratelimit-remaining at 0) for {Seconds(exhausted - now)} more");
            }

            if (_cooldownUntil > now)
            {
                reasons.Add($"cooling down for {Seconds(_cooldownUntil - now)} more, as its last answer ({Describe(_lastFailureKind, _lastStatus)}) asked");
            }

            if (_sharedUntil > now && reasons.Count == 0)
            {
                reasons.Add($"another instance found {Describe(_sharedReason)}, for {Seconds(_sharedUntil - now)} more (shared state)");
            }

            return reasons.Count == 0 ? null : string.Join("; ", reasons);
        }
    }

    /// <summary>
    /// Records how an attempt ended. With a routing <paramref name="policy"/>, a failure may also take the endpoint out
    /// of rotation: a wait hint (capped), a key out of quota, a rejected key. Returns whether the key was newly sidelined.
    /// </summary>
    public EndpointChange Record(LlmAttempt attempt, DateTimeOffset now, RoutingPolicy? policy)
    {
        if (attempt.End == AttemptEnd.Succeeded)
        {
            // A cooldown may outlive the failures count: another model's success reset the count, not this model's wait.
            if (Volatile.Read(ref _consecutiveFailures) != 0 || (policy is not null && _sidelinedFor != LlmFailureKind.Unknown)
                || Volatile.Read(ref _outageEndTicks) > now.UtcTicks)
            {
                lock (_lock)
                {
                    var wasSidelined = _sidelinedFor != LlmFailureKind.Unknown;
                    _consecutiveFailures = 0;
                    if (attempt.Model is null || _cooldownModel is null || string.Equals(attempt.Model, _cooldownModel, StringComparison.Ordinal))
                    {
                        _cooldownUntil = DateTimeOffset.MinValue; // another model's answer says nothing about this model's wait
                    }

                    _sidelinedUntil = DateTimeOffset.MinValue;
                    _sidelinedFor = LlmFailureKind.Unknown;
                    if (wasSidelined)
                    {
                        Withdraw(EndpointOutage.Sidelined);
                    }

                    return wasSidelined ? EndpointChange.Restored : EndpointChange.None;
                }
            }

            return EndpointChange.None;
        }

        if (attempt.Failure is not { } failure || attempt.End == AttemptEnd.Cancelled)
        {
            return EndpointChange.None;
        }

        lock (_lock)
        {
            _consecutiveFailures++;
            _lastFailureKind = failure.Kind;
            _lastStatus = failure.StatusCode;
            _lastFailureAt = now;
            if (failure.RetryAfter is { } wait)
            {
                if (policy is not null && wait > policy.MaxRetryAfter)
                {
                    wait = policy.MaxRetryAfter;
                }

                if (now + wait > _cooldownUntil)
                {
                    _cooldownUntil = now + wait;
                    _cooldownKind = failure.Kind;
                    _cooldownModel = attempt.Model;
                    _cooldownHint = wait;
                    ExtendOutage(_cooldownUntil);
                    Share(EndpointOutage.Cooldown, _cooldownUntil);
                }
            }

            if (policy is null || failure.Kind is not (LlmFailureKind.QuotaExceeded or LlmFailureKind.Unauthorized))
            {
                return EndpointChange.None;
            }

            var newly = _sidelinedFor == LlmFailureKind.Unknown;
            _sidelinedFor = failure.Kind;
            _sidelinedUntil = now + (failure.Kind == LlmFailureKind.QuotaExceeded ? policy.QuotaCooldown : policy.UnauthorizedProbeAfter);
            ExtendOutage(_sidelinedUntil);
            Share(EndpointOutage.Sidelined, _sidelinedUntil);
            return newly ? EndpointChange.Sidelined : EndpointChange.None;
        }
    }

    // IEndpointStateSharing queues and returns at once, so calling it under the lock holds nothing up.
    private void Share(EndpointOutage reason, DateTimeOffset until)
    {
        if (Sharing is { } sharing)
        {
            sharing.Publish(Key!, reason, until);
        }
    }

    private void Withdraw(EndpointOutage reason) => Sharing?.Withdraw(Key!, reason);

    private static string Describe(EndpointOutage reason) => reason switch
    {
        EndpointOutage.Cooldown => "it asked for a wait (429/503)",
        EndpointOutage.Sidelined => "its key out of quota or refused",
        EndpointOutage.BreakerOpen => "its circuit open",
        _ => "its rate limit used up (x-ratelimit-remaining at 0)",
    };

    // Under the lock.
    private void ExtendOutage(DateTimeOffset until)
    {
        if (until.UtcTicks > _outageEndTicks)
        {
            Volatile.Write(ref _outageEndTicks, until.UtcTicks);
        }
    }

    private static string Describe(LlmFailureKind kind, int? status) => status is { } code ? $"{kind}, HTTP {code}" : kind.ToString();

    private static string Seconds(TimeSpan wait) => $"{Math.Ceiling(wait.TotalSeconds):0} s";
}

/// <summary>What a failure does to an endpoint of a routed client: how long a hint may keep it out, and a sidelined key.</summary>
internal sealed record RoutingPolicy(TimeSpan MaxRetryAfter, TimeSpan QuotaCooldown, TimeSpan UnauthorizedProbeAfter);

/// <summary>A change in an endpoint's standing worth a log line.</summary>
internal enum EndpointChange
{
    None = 0,
    Sidelined,
    Restored,
}
