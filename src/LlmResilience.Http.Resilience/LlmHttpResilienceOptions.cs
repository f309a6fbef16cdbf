namespace LlmResilience.Http.Resilience;

/// <summary>What <c>ConfigureForLlm</c> adds to Microsoft.Extensions.Http.Resilience's standard options.</summary>
public sealed class LlmHttpResilienceOptions
{
    /// <summary>
    /// Gets or sets the longest wait a server may ask for (<c>retry-after-ms</c>, <c>Retry-After</c>, <c>x-ratelimit-reset-*</c>)
    /// that is still waited out. A longer one ends the call at once: the caller gets that response (a 429 or 503 with its
    /// headers) instead of a request held for minutes.
    /// </summary>
    /// <value>The default value is 60 seconds, as <see cref="LlmResilienceOptions.MaxRetryAfter"/>.</value>
    public TimeSpan MaxRetryAfter { get; set; } = LlmHttpResilienceDefaults.MaxRetryAfter;
}
