namespace LlmResilience.Http.Resilience;

/// <summary>The values <c>ConfigureForLlm</c> puts on MEHR's standard options; the core's defaults where the core has one.</summary>
internal static class LlmHttpResilienceDefaults
{
    public const int MaxRetryAttempts = LlmResilienceDefaults.MaxRetryAttempts;

    // MEHR's breaker needs 100 calls in 30 s before it may open, a rate few LLM clients reach. Ten calls and half of them
    // failing is a signal at a few calls a minute.
    public const int BreakerMinimumThroughput = 10;
    public const double BreakerFailureRatio = 0.5;

    public static readonly TimeSpan MaxRetryAfter = LlmResilienceDefaults.MaxRetryAfter;
    public static readonly TimeSpan BaseDelay = LlmResilienceDefaults.BaseDelay;
    public static readonly TimeSpan MaxDelay = LlmResilienceDefaults.MaxDelay;
    public static readonly TimeSpan AttemptTimeout = LlmResilienceDefaults.AttemptTimeout;
    public static readonly TimeSpan TotalTimeout = LlmResilienceDefaults.TotalTimeout;

    // MEHR's validator asks for a sampling window of at least twice the attempt timeout, so an attempt's outcome is never
    // recorded after its window closed.
    public static readonly TimeSpan BreakerSamplingDuration = AttemptTimeout * 2;
    public static readonly TimeSpan BreakerBreakDuration = TimeSpan.FromSeconds(30);
}
