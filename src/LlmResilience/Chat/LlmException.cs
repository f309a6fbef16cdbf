using System.Net;

namespace LlmResilience;

/// <summary>
/// The one exception a call through LlmResilience fails with: what happened (<see cref="Kind"/>), what the server
/// said (<see cref="HttpRequestException.StatusCode"/>, <see cref="ErrorCode"/>, <see cref="RequestId"/>), what the
/// pipeline did (<see cref="Attempts"/>, <see cref="RetryAfter"/>), and a message that says what to do.
/// </summary>
/// <remarks>
/// It derives from <see cref="HttpRequestException"/>, so code (and SDKs) that already catch HTTP failures keep
/// working when the handler is placed on their <see cref="HttpClient"/>. A caller's own cancellation is never
/// wrapped: it surfaces as <see cref="OperationCanceledException"/>. The message never contains the API key.
/// </remarks>
public sealed class LlmException : HttpRequestException
{
    /// <summary>Creates an exception for a failed LLM call.</summary>
    /// <param name="kind">What went wrong.</param>
    /// <param name="message">What happened and what to do about it.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    /// <param name="statusCode">The HTTP status of the last response, if one arrived.</param>
    public LlmException(LlmFailureKind kind, string message, Exception? innerException = null, HttpStatusCode? statusCode = null)
        : base(ToHttpRequestError(kind), message, innerException, statusCode)
    {
        Kind = kind;
    }

    /// <summary>What went wrong.</summary>
    public LlmFailureKind Kind { get; }

    /// <summary>The <c>error.code</c> (or, failing that, <c>error.type</c>) of the OpenAI error body, such as <c>rate_limit_exceeded</c> or <c>context_length_exceeded</c>.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>The server's request id (<c>x-request-id</c>) of the last response: quote it to the provider's support.</summary>
    public string? RequestId { get; init; }

    /// <summary>How long the server asked the caller to wait before trying again, when it said so.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>How many attempts were sent before the call failed (1 when it was not retried; 0 when nothing was sent).</summary>
    public int Attempts { get; init; }

    /// <summary>The endpoint of the last attempt (<see cref="LlmEndpoint.Name"/>; for a client with one endpoint, its base address), when one was made.</summary>
    public string? Endpoint { get; init; }

    /// <summary>For <see cref="LlmFailureKind.StreamInterrupted"/>: the text the stream delivered before it broke.</summary>
    public string? PartialContent { get; init; }

    /// <summary>For telemetry: how a stream stalled (<c>first_event</c>, <c>idle</c>) when this failure is a stall.</summary>
    internal string? Stall { get; init; }

    /// <summary>Whether retrying the same call later may succeed (false for quota, authorization and bad-request failures).</summary>
    public bool IsTransient => Kind is LlmFailureKind.ConnectFailure or LlmFailureKind.ResetBeforeHeaders or LlmFailureKind.Timeout
        or LlmFailureKind.StreamInterrupted or LlmFailureKind.RateLimited or LlmFailureKind.ServerError or LlmFailureKind.ProxyUpstreamFailure
        or LlmFailureKind.CircuitOpen;

    private static HttpRequestError ToHttpRequestError(LlmFailureKind kind) => kind switch
    {
        LlmFailureKind.ConnectFailure => HttpRequestError.ConnectionError,
        LlmFailureKind.ResetBeforeHeaders or LlmFailureKind.StreamInterrupted => HttpRequestError.ResponseEnded,
        LlmFailureKind.InvalidResponse => HttpRequestError.InvalidResponse,
        _ => HttpRequestError.Unknown,
    };
}
