namespace LlmResilience;

/// <summary>
/// Decides, for each attempt, which endpoint it goes to, and learns from how each attempt ended. Called by the
/// pipeline inside the retry layer, so a retry can go elsewhere than the attempt that failed. May be called for
/// attempts running at once (hedging): implementations are thread-safe and keep nothing per call.
/// </summary>
internal interface IEndpointSelector
{
    /// <summary>The endpoint of the next attempt of <paramref name="call"/> (its earlier attempts are in <see cref="LlmCall.Attempts"/>).</summary>
    EndpointTarget Select(LlmCall call);

    /// <summary>Learns from an attempt that has ended (success or failure).</summary>
    void Report(LlmAttempt attempt, TimeProvider time);
}

/// <summary>One endpoint: every attempt goes there. It records each attempt's outcome in the endpoint's state.</summary>
internal sealed class SingleEndpointSelector(EndpointTarget endpoint, IEndpointStateStore store) : IEndpointSelector
{
    public EndpointTarget Endpoint { get; } = endpoint;

    public EndpointTarget Select(LlmCall call) => Endpoint;

    public void Report(LlmAttempt attempt, TimeProvider time) => store.Get(attempt.Endpoint.Name).Record(attempt, time.GetUtcNow());
}
