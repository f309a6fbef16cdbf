namespace LlmResilience;

/// <summary>Why the retry layer stopped with a response that is not a success.</summary>
internal enum RetryStopReason
{
    None = 0,
    NotRetryable,
    AttemptsExhausted,
    RetryAfterTooLong,
    WouldOutliveTotalTimeout,
    ServerSaidDoNotRetry,
}

/// <summary>
/// What the pipeline did for a call that ended with an error response, left on the request's options for the typed
/// client to build its <see cref="LlmException"/> from. Set only on failure, so the happy path allocates none.
/// </summary>
internal sealed record CallReport(int Attempts, TimeSpan? RetryAfter, RetryStopReason StopReason)
{
    public static readonly HttpRequestOptionsKey<CallReport> Key = new("LlmResilience.CallReport");
}
