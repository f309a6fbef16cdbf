using System.Collections.Concurrent;

namespace LlmResilience;

/// <summary>
/// Per-endpoint state that outlives a call: health, cooldowns, and (as routing and pacing arrive) breaker state and
/// learned limits. Behind an interface so that a store shared by a fleet (Redis) can replace the in-memory one.
/// </summary>
internal interface IEndpointStateStore
{
    /// <summary>The state of the endpoint named <paramref name="endpointName"/>, created on first use.</summary>
    EndpointState Get(string endpointName);
}

/// <summary>The process-local store: one <see cref="EndpointState"/> per endpoint name, for the life of the client.</summary>
internal sealed class InMemoryEndpointStateStore : IEndpointStateStore
{
    private readonly ConcurrentDictionary<string, EndpointState> _states = new(StringComparer.Ordinal);

    public EndpointState Get(string endpointName) =>
        _states.TryGetValue(endpointName, out var state) ? state : _states.GetOrAdd(endpointName, static _ => new EndpointState());
}

/// <summary>
/// What is known about one endpoint: consecutive failures, the last failure, and until when the server asked not to
/// be called. Thread-safe; a success on a healthy endpoint writes nothing.
/// </summary>
internal sealed class EndpointState
{
    private readonly Lock _lock = new();
    private int _consecutiveFailures;
    private LlmFailureKind _lastFailureKind;
    private int? _lastStatus;
    private DateTimeOffset _lastFailureAt;
    private DateTimeOffset _cooldownUntil;

    /// <summary>Failed attempts since the last success.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

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

    public void Record(LlmAttempt attempt, DateTimeOffset now)
    {
        if (attempt.End == AttemptEnd.Succeeded)
        {
            if (Volatile.Read(ref _consecutiveFailures) != 0)
            {
                lock (_lock)
                {
                    _consecutiveFailures = 0;
                    _cooldownUntil = DateTimeOffset.MinValue;
                }
            }

            return;
        }

        if (attempt.Failure is not { } failure || attempt.End == AttemptEnd.Cancelled)
        {
            return;
        }

        lock (_lock)
        {
            _consecutiveFailures++;
            _lastFailureKind = failure.Kind;
            _lastStatus = failure.StatusCode;
            _lastFailureAt = now;
            if (failure.RetryAfter is { } wait && now + wait > _cooldownUntil)
            {
                _cooldownUntil = now + wait;
            }
        }
    }
}
