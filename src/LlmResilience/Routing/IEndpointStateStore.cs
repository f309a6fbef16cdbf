using System.Collections.Concurrent;

namespace LlmResilience;

/// <summary>
/// Per-endpoint state that outlives a call: health, cooldowns, sidelined keys, breakers (and, as pacing arrives,
/// learned limits). Behind an interface so that a store shared by a fleet (Redis) can replace the in-memory one.
/// </summary>
internal interface IEndpointStateStore
{
    /// <summary>The state of the endpoint whose <see cref="EndpointTarget.StateKey"/> is <paramref name="endpointKey"/>, created on first use.</summary>
    EndpointState Get(string endpointKey);
}

/// <summary>The process-local store: one <see cref="EndpointState"/> per endpoint key, for the life of the container (or client).</summary>
internal sealed class InMemoryEndpointStateStore : IEndpointStateStore
{
    private readonly ConcurrentDictionary<string, EndpointState> _states = new(StringComparer.Ordinal);

    public EndpointState Get(string endpointKey) =>
        _states.TryGetValue(endpointKey, out var state) ? state : _states.GetOrAdd(endpointKey, static _ => new EndpointState());
}
