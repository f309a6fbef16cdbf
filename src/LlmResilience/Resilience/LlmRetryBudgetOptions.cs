namespace LlmResilience;

/// <summary>
/// The client-wide retry budget: retries (and hedged attempts, and failovers) are capped to a share of the calls of
/// the last <see cref="Window"/>, so that when a provider is overloaded the client does not multiply its load by
/// <c>MaxRetryAttempts + 1</c>. In the spirit of Envoy's retry budget and gRPC's retry throttling.
/// </summary>
/// <remarks>
/// A failed attempt the budget does not cover is not retried: the caller gets that attempt's own failure, and the
/// message says the retry budget stopped it. <see cref="MinRetries"/> lets a quiet client still retry.
/// </remarks>
public sealed class LlmRetryBudgetOptions
{
    /// <summary>Whether the budget applies.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Retries allowed per call started within the window (0.2: one retry for every five calls).</summary>
    /// <value>The default value is 0.2.</value>
    public double RetryRatio { get; set; } = 0.2;

    /// <summary>Retries allowed within the window whatever the traffic, so that a quiet client can retry.</summary>
    /// <value>The default value is 10.</value>
    public int MinRetries { get; set; } = 10;

    /// <summary>The sliding window calls and retries are counted over (1 second to 1 hour).</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>"20 % of the calls of the last 10 s, at least 10", for messages.</summary>
    internal string Describe() =>
        $"{RetryRatio * 100:0.#} % of the calls of the last {Window.TotalSeconds:0.#} s, at least {MinRetries}";

    internal void CopyTo(LlmRetryBudgetOptions target)
    {
        target.Enabled = Enabled;
        target.RetryRatio = RetryRatio;
        target.MinRetries = MinRetries;
        target.Window = Window;
    }
}
