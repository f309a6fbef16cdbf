namespace LlmResilience;

/// <summary>Why a call stopped sending attempts.</summary>
internal enum CallStopReason
{
    /// <summary>The call has not ended, or it succeeded.</summary>
    None = 0,

    /// <summary>The last failure cannot be cured by another attempt (401, 400, quota, a malformed answer...).</summary>
    NotRetryable,

    /// <summary>Every attempt allowed by MaxRetryAttempts was made (or retries are off).</summary>
    AttemptsExhausted,

    /// <summary>The server asked for a wait longer than MaxRetryAfter.</summary>
    RetryAfterTooLong,

    /// <summary>The next wait would have outlived TotalTimeout.</summary>
    WouldOutliveTotalTimeout,

    /// <summary>The server sent <c>x-should-retry: false</c>.</summary>
    ServerSaidDoNotRetry,

    /// <summary>TotalTimeout expired during an attempt.</summary>
    TotalTimeout,

    /// <summary>The answer arrived but could not be used (read by the typed client after the pipeline).</summary>
    FailedAfterResponse,

    /// <summary>Several endpoints, none available (breakers open, cooldowns, sidelined keys) and none back in time.</summary>
    NoEndpointAvailable,

    /// <summary>The client-wide retry budget was spent: the failure was not retried.</summary>
    RetryBudgetExhausted,

    /// <summary>Pacing: the endpoint's budget would not have room for the call within MaxRetryAfter or the deadline.</summary>
    PacedOut,

    /// <summary>The request is clearly larger than every endpoint's context window (estimated before sending).</summary>
    TooLargeForEveryWindow,
}
