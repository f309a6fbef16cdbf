namespace LlmResilience;

/// <summary>How the instances of a fleet share endpoint state through Redis (<c>AddLlmRedisCoordination</c>).</summary>
/// <remarks>
/// Redis is never on a call's critical path for longer than <see cref="OperationTimeout"/>, and is never a single point of
/// failure: when it is unreachable, slow or failing, every instance keeps calling with what it knows itself, logs that
/// once, and shares again once Redis answers.
/// </remarks>
public sealed class LlmRedisCoordinationOptions
{
    /// <summary>The prefix of every Redis key and channel this library uses, so that several fleets (or environments) can share one Redis.</summary>
    /// <value>The default value is <c>llmresilience</c>.</value>
    public string KeyPrefix { get; set; } = LlmRedisDefaults.KeyPrefix;

    /// <summary>The longest any Redis operation may take before this instance stops waiting for it and falls back to its local state.</summary>
    /// <value>The default value is 50 milliseconds. Between 1 millisecond and 5 seconds.</value>
    public TimeSpan OperationTimeout { get; set; } = LlmRedisDefaults.OperationTimeout;

    /// <summary>
    /// How often every endpoint's shared state is read in the background (changes also arrive at once through pub/sub;
    /// this catches what a missed message did not say, and probes an unreachable Redis).
    /// </summary>
    /// <value>The default value is 1 second. Between 10 milliseconds and 1 minute.</value>
    public TimeSpan RefreshInterval { get; set; } = LlmRedisDefaults.RefreshInterval;
}
