namespace LlmResilience;

/// <summary>
/// Decides, for each attempt, which endpoint it goes to, and learns from how each attempt ended. Called by the
/// pipeline inside the retry layer, so a retry can go elsewhere than the attempt that failed. May be called for
/// attempts running at once (hedging): implementations are thread-safe and keep nothing per call.
/// </summary>
internal interface IEndpointSelector
{
    /// <summary>
    /// Whether calls are routed over several endpoints: availability (breakers, cooldowns, sidelined keys) and failover
    /// apply. A single endpoint has nowhere else to go: every attempt is sent to it, and only the retry rules decide.
    /// </summary>
    bool Routes { get; }

    /// <summary>
    /// The endpoint of the next attempt of <paramref name="call"/> (its earlier attempts are in <see cref="LlmCall.Attempts"/>),
    /// other than <paramref name="skip"/>; <see langword="null"/> when none is available now.
    /// </summary>
    EndpointTarget? Select(LlmCall call, EndpointTarget? skip = null);

    /// <summary>When none is available: how long until the first one the call could use comes back (<see langword="null"/>: none will).</summary>
    TimeSpan? AvailableIn(LlmCall call);

    /// <summary>Every endpoint and, for those unavailable, why and until when (for the <see cref="LlmFailureKind.CircuitOpen"/> message).</summary>
    string DescribeAvailability();

    /// <summary>Learns from an attempt that has ended (success or failure).</summary>
    void Report(LlmAttempt attempt, TimeProvider time);
}

/// <summary>One endpoint: every attempt goes there. It records each attempt's outcome in the endpoint's state.</summary>
internal sealed class SingleEndpointSelector(EndpointTarget endpoint, IEndpointStateStore store) : IEndpointSelector
{
    public EndpointTarget Endpoint { get; } = endpoint;

    public bool Routes => false;

    public EndpointTarget? Select(LlmCall call, EndpointTarget? skip = null) => Endpoint;

    public TimeSpan? AvailableIn(LlmCall call) => TimeSpan.Zero;

    public string DescribeAvailability() => Endpoint.Name;

    public void Report(LlmAttempt attempt, TimeProvider time) => (attempt.Endpoint.State ?? store.Get(attempt.Endpoint.StateKey)).Record(attempt, time.GetUtcNow(), policy: null);
}
