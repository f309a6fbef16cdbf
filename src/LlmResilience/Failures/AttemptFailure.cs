namespace LlmResilience;

/// <summary>What went wrong with one attempt, as <see cref="LlmFailures"/> classified it: read by the retry decision, the endpoint state, the metrics and the final exception.</summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Retryable">Whether another attempt may succeed.</param>
/// <param name="Reason">A short, key-free description for logs, such as "HTTP 503 server_error" or "connection reset (ConnectionReset)".</param>
internal sealed record AttemptFailure(LlmFailureKind Kind, bool Retryable, string Reason)
{
    /// <summary>The response's status, when one arrived.</summary>
    public int? StatusCode { get; init; }

    /// <summary>The error body's <c>code</c> (or <c>type</c>).</summary>
    public string? ErrorCode { get; init; }

    /// <summary>What the server said (its error message, or the first line or title of a non-JSON body), shortened and with the key scrubbed.</summary>
    public string? ServerSaid { get; init; }

    /// <summary>The <c>Server</c> header, when a response arrived.</summary>
    public string? Server { get; init; }

    /// <summary>The wait the server asked for, if any.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The server's <c>x-should-retry</c> verdict, if it gave one.</summary>
    public bool? ServerSaysRetry { get; init; }

    /// <summary>The exception the attempt ended with, when it did not end with a response.</summary>
    public Exception? Exception { get; init; }
}
