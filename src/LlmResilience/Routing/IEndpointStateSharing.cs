namespace LlmResilience;

/// <summary>
/// Where an <see cref="EndpointState"/> tells a fleet what it learned about its endpoint (a cooldown, a sidelined key, an
/// open breaker), so that other processes stop calling it too. Implemented outside the core (LlmResilience.Redis);
/// without one, the state stays local.
/// </summary>
/// <remarks>
/// Called on the attempt's path, so an implementation must return at once: queue the write, never wait for it, never
/// throw. What the fleet learned comes back through <see cref="EndpointState.ApplyShared"/>, pushed by the
/// implementation, so that reading availability stays a field read.
/// </remarks>
internal interface IEndpointStateSharing
{
    /// <summary>The endpoint <paramref name="endpointKey"/> (its <see cref="EndpointTarget.StateKey"/>) is out for <paramref name="reason"/> until <paramref name="until"/>.</summary>
    void Publish(string endpointKey, EndpointOutage reason, DateTimeOffset until);

    /// <summary>The endpoint is back: a success cleared its sidelined key, or its breaker closed.</summary>
    void Withdraw(string endpointKey, EndpointOutage reason);
}

/// <summary>Why an endpoint is out of rotation, as shared with a fleet.</summary>
internal enum EndpointOutage
{
    /// <summary>A 429 or 503 asked for a wait.</summary>
    Cooldown = 0,

    /// <summary>Its key is out of quota (<c>insufficient_quota</c>) or was refused (401/403).</summary>
    Sidelined = 1,

    /// <summary>Its circuit breaker opened.</summary>
    BreakerOpen = 2,

    /// <summary>Its <c>x-ratelimit-remaining-*</c> headers said a budget is used up until <c>x-ratelimit-reset-*</c>.</summary>
    RateLimitExhausted = 3,
}
