namespace LlmResilience;

/// <summary>
/// Per-call control for one <see cref="IChatCompletionsClient"/> call: extra headers, and the client's timeouts and
/// retries overridden for this call only (no retries for an interactive call, a longer deadline for a batch job).
/// </summary>
/// <remarks>Checked when the call is made: a value out of range throws <see cref="ArgumentException"/> naming it.</remarks>
public sealed class LlmRequestOptions
{
    /// <summary>
    /// Headers sent with every attempt of this call, such as <c>OpenAI-Organization</c>, <c>OpenAI-Project</c> or a
    /// tenant id. <c>Authorization</c> and <c>api-key</c> are refused: the key comes from the client's configuration.
    /// </summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>This call's total deadline instead of <see cref="LlmResilienceOptions.TotalTimeout"/> (10 ms to 1 day).</summary>
    public TimeSpan? TotalTimeout { get; set; }

    /// <summary>This call's attempt timeout instead of <see cref="LlmResilienceOptions.AttemptTimeout"/> (10 ms to 1 day).</summary>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>This call's retries, from 0 (none) up to the client's <see cref="LlmResilienceOptions.MaxRetryAttempts"/>.</summary>
    public int? MaxRetryAttempts { get; set; }

    internal void Validate(LlmResilienceOptions client)
    {
        foreach (var name in Headers.Keys)
        {
            if (string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "api-key", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"LlmRequestOptions.Headers has '{name}': the key comes from the client's configuration (ApiKey, LlmEndpoint.ApiKey or ApiKeyProvider), never from a call.", nameof(Headers));
            }
        }

        Check(TotalTimeout, nameof(TotalTimeout));
        Check(AttemptTimeout, nameof(AttemptTimeout));
        if (MaxRetryAttempts is { } retries && (retries < 0 || retries > client.MaxRetryAttempts))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetryAttempts), retries,
                $"LlmRequestOptions.MaxRetryAttempts is {retries}: use 0 to the client's MaxRetryAttempts ({client.MaxRetryAttempts}); raise the client's to allow more.");
        }
    }

    private static void Check(TimeSpan? value, string name)
    {
        if (value is { } timeout && (timeout < TimeSpan.FromMilliseconds(10) || timeout > TimeSpan.FromDays(1)))
        {
            throw new ArgumentOutOfRangeException(name, timeout, $"LlmRequestOptions.{name} is {timeout}: use 10 ms to 1 day, or null for the client's.");
        }
    }
}
