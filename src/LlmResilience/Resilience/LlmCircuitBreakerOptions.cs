namespace LlmResilience;

/// <summary>
/// The circuit breaker each endpoint of a client with several endpoints has (Polly's): it takes an endpoint out of
/// rotation when too many of its recent attempts failed, and lets one probe through after <see cref="BreakDuration"/>.
/// </summary>
/// <remarks>
/// <para>
/// It counts transport failures, attempt timeouts, 5xx answers and proxy errors; never a 4xx or a 429 (a rate limit is
/// a cooldown of its own, for the wait the server asked). The defaults are sized for LLM traffic, where an endpoint
/// sees a few calls a minute: three failures in a row open it. (Microsoft.Extensions.Http.Resilience's 10 % over at
/// least 100 requests would never open at those rates.)
/// </para>
/// <para>
/// A client with one endpoint has nowhere else to send a call, so its breaker is not used: its calls are retried as
/// <see cref="LlmResilienceOptions"/> says.
/// </para>
/// </remarks>
public sealed class LlmCircuitBreakerOptions
{
    /// <summary>The share of failed attempts, within <see cref="SamplingDuration"/>, that opens the breaker (more than 0, at most 1).</summary>
    /// <value>The default value is 0.5.</value>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>How many attempts the endpoint must have seen within <see cref="SamplingDuration"/> before the ratio counts (2 or more).</summary>
    /// <value>The default value is 3.</value>
    public int MinimumThroughput { get; set; } = 3;

    /// <summary>The window the failure ratio is measured over (at least 0.5 s).</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open breaker keeps its endpoint out of rotation before one probe is let through (at least 0.5 s). Also how long a rejected key (401, 403) is sidelined before it is probed again.</summary>
    /// <value>The default value is 15 seconds.</value>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    internal void CopyTo(LlmCircuitBreakerOptions target)
    {
        target.FailureRatio = FailureRatio;
        target.MinimumThroughput = MinimumThroughput;
        target.SamplingDuration = SamplingDuration;
        target.BreakDuration = BreakDuration;
    }
}
