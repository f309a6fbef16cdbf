namespace LlmResilience;

/// <summary>What went wrong with a call to an LLM endpoint, as far as the caller needs to act on it.</summary>
public enum LlmFailureKind
{
    /// <summary>The failure could not be classified more precisely.</summary>
    Unknown = 0,

    /// <summary>No connection could be made: the connection was refused, the name did not resolve, or the connect timed out.</summary>
    ConnectFailure,

    /// <summary>The connection was reset or closed before the response arrived: before its headers, or in the middle of a non-streamed body.</summary>
    ResetBeforeHeaders,

    /// <summary>A timeout of the pipeline expired before the answer reached the caller: the total timeout, the attempt timeout or the first-token timeout (or the server answered HTTP 408). A stream that goes idle after its first event is <see cref="StreamInterrupted"/>.</summary>
    Timeout,

    /// <summary>A stream broke, went idle past StreamIdleTimeout, or outlived TotalTimeout after its first event reached the caller; the text received so far is in <see cref="LlmException.PartialContent"/>.</summary>
    StreamInterrupted,

    /// <summary>The server rate-limited the call (HTTP 429): the retries ran out, or it asked for a wait longer than MaxRetryAfter (<see cref="LlmException.RetryAfter"/> says how long). Another status with a long wait keeps its own kind (a 503 is <see cref="ServerError"/>), with RetryAfter set all the same.</summary>
    RateLimited,

    /// <summary>The account has no quota or credit left (HTTP 429 <c>insufficient_quota</c>); retrying does not help.</summary>
    QuotaExceeded,

    /// <summary>The API key is missing, wrong or lacks permission (HTTP 401 or 403).</summary>
    Unauthorized,

    /// <summary>The server rejected the request as invalid (HTTP 400, 404, 409 after retries, 422).</summary>
    BadRequest,

    /// <summary>The prompt and the requested completion exceed the model's context window.</summary>
    ContextLengthExceeded,

    /// <summary>The server failed (HTTP 5xx) on every attempt.</summary>
    ServerError,

    /// <summary>A proxy or gateway in front of the model failed to reach it (Envoy's "upstream connect error", nginx 502/504, Cloudflare 520-524).</summary>
    ProxyUpstreamFailure,

    /// <summary>The response could not be read: malformed JSON or SSE, an unexpected content type, or a body over the size limit.</summary>
    InvalidResponse,

    /// <summary>
    /// Every endpoint of the client was unavailable (circuit open, cooling down after a rate limit, or key sidelined)
    /// and none would be back within MaxRetryAfter and the call's deadline; <see cref="LlmException.RetryAfter"/> says
    /// when the first may be tried again.
    /// </summary>
    CircuitOpen,
}
