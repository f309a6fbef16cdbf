using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>
/// Every log line of LlmResilience, source-generated. Stable event ids; endpoints are logged without user info or
/// query strings; the API key and prompt text never appear. <c>{Client}</c> is the named client's name ("default"
/// for the default client, the HttpClient's name under another client).
/// </summary>
/// <remarks>
/// A line with a request id ends with "Request id: {RequestId}"; a line without one (no response arrived, or the
/// server sent no <c>x-request-id</c>) leaves the part out rather than printing "Request id: (null)". Each such event
/// therefore has two generated methods with the same event id and name, one with the placeholder and one without, and
/// the method here picks one. The with-id variants live in the nested <see cref="WithRequestId"/> class because the
/// generator rejects two methods with one event id in a class (SYSLIB1006). Chosen over a preformatted
/// " Request id: …" suffix placeholder because <c>RequestId</c> stays a structured property of its own, which log
/// queries filter on, and the template stays the message (no empty placeholder in it).
/// </remarks>
internal static partial class Log
{
    public static void Retrying(ILogger logger, string client, string endpoint, int attempt, string reason, long delayMs, string? requestId)
    {
        if (requestId is null)
        {
            RetryingNoId(logger, client, endpoint, attempt, reason, delayMs);
        }
        else
        {
            WithRequestId.Retrying(logger, client, endpoint, attempt, reason, delayMs, requestId);
        }
    }

    public static void GivingUp(ILogger logger, string client, string endpoint, string attempts, LlmFailureKind kind, string reason, string stopReason, string? requestId)
    {
        if (requestId is null)
        {
            GivingUpNoId(logger, client, endpoint, attempts, kind, reason, stopReason);
        }
        else
        {
            WithRequestId.GivingUp(logger, client, endpoint, attempts, kind, reason, stopReason, requestId);
        }
    }

    public static void StreamInterrupted(ILogger logger, string client, string endpoint, int chunks, string reason, string? requestId)
    {
        if (requestId is null)
        {
            StreamInterruptedNoId(logger, client, endpoint, chunks, reason);
        }
        else
        {
            WithRequestId.StreamInterrupted(logger, client, endpoint, chunks, reason, requestId);
        }
    }

    [LoggerMessage(EventId = 3, EventName = "PoolRecycled", Level = LogLevel.Warning,
        Message = "Connection pool dropped after {Failures} transport failures in a row to {Endpoint}; the next attempt opens fresh connections")]
    public static partial void PoolRecycled(ILogger logger, string endpoint, int failures);

    [LoggerMessage(EventId = 5, EventName = "FailingOver", Level = LogLevel.Warning,
        Message = "LLM call ({Client}): attempt {Attempt} to endpoint {From} failed ({Reason}); failing over to endpoint {To}.")]
    public static partial void FailingOver(ILogger logger, string client, int attempt, string from, string reason, string to);

    [LoggerMessage(EventId = 6, EventName = "BreakerOpened", Level = LogLevel.Warning,
        Message = "Circuit breaker of endpoint {Endpoint} opened: it is left out of rotation for {BreakMs} ms, then probed with one call.")]
    public static partial void BreakerOpened(ILogger logger, string endpoint, long breakMs);

    [LoggerMessage(EventId = 7, EventName = "BreakerClosed", Level = LogLevel.Information,
        Message = "Circuit breaker of endpoint {Endpoint} closed: a probe succeeded and the endpoint is back in rotation.")]
    public static partial void BreakerClosed(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 8, EventName = "KeySidelined", Level = LogLevel.Error,
        Message = "Endpoint {Endpoint}: its key was refused ({Reason}), so the endpoint is left out of rotation for {Seconds} s, then probed again; {Advice}. Other endpoints take its calls.")]
    public static partial void KeySidelined(ILogger logger, string endpoint, string reason, string advice, long seconds);

    [LoggerMessage(EventId = 9, EventName = "KeyRestored", Level = LogLevel.Information,
        Message = "Endpoint {Endpoint}: its key works again; the endpoint is back in rotation.")]
    public static partial void KeyRestored(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 10, EventName = "WaitingForEndpoint", Level = LogLevel.Warning,
        Message = "LLM call ({Client}): no endpoint is available ({Availability}); waiting {DelayMs} ms for the first to come back.")]
    public static partial void WaitingForEndpoint(ILogger logger, string client, string availability, long delayMs);

    [LoggerMessage(EventId = 11, EventName = "Hedging", Level = LogLevel.Information,
        Message = "LLM call ({Client}): no answer from endpoint {Endpoint} after {DelayMs} ms; hedging with one more attempt to {To}.")]
    public static partial void Hedging(ILogger logger, string client, string endpoint, long delayMs, string to);

    [LoggerMessage(EventId = 1, EventName = "Retrying", Level = LogLevel.Warning,
        Message = "LLM call ({Client}) to {Endpoint}: attempt {Attempt} failed ({Reason}); retrying in {DelayMs} ms.")]
    private static partial void RetryingNoId(ILogger logger, string client, string endpoint, int attempt, string reason, long delayMs);

    [LoggerMessage(EventId = 2, EventName = "GivingUp", Level = LogLevel.Warning,
        Message = "LLM call ({Client}) to {Endpoint} failed after {Attempts}: {Kind} ({Reason}; {StopReason}).")]
    private static partial void GivingUpNoId(ILogger logger, string client, string endpoint, string attempts, LlmFailureKind kind, string reason, string stopReason);

    [LoggerMessage(EventId = 4, EventName = "StreamInterrupted", Level = LogLevel.Warning,
        Message = "LLM stream ({Client}) from {Endpoint} broke after {Chunks} chunk(s) had reached the caller ({Reason}); not retried, as that would duplicate output.")]
    private static partial void StreamInterruptedNoId(ILogger logger, string client, string endpoint, int chunks, string reason);

    /// <summary>The variants of the events above for a known request id: same event ids and names, same text plus the id.</summary>
    private static partial class WithRequestId
    {
        [LoggerMessage(EventId = 1, EventName = "Retrying", Level = LogLevel.Warning,
            Message = "LLM call ({Client}) to {Endpoint}: attempt {Attempt} failed ({Reason}); retrying in {DelayMs} ms. Request id: {RequestId}")]
        public static partial void Retrying(ILogger logger, string client, string endpoint, int attempt, string reason, long delayMs, string requestId);

        [LoggerMessage(EventId = 2, EventName = "GivingUp", Level = LogLevel.Warning,
            Message = "LLM call ({Client}) to {Endpoint} failed after {Attempts}: {Kind} ({Reason}; {StopReason}). Request id: {RequestId}")]
        public static partial void GivingUp(ILogger logger, string client, string endpoint, string attempts, LlmFailureKind kind, string reason, string stopReason, string requestId);

        [LoggerMessage(EventId = 4, EventName = "StreamInterrupted", Level = LogLevel.Warning,
            Message = "LLM stream ({Client}) from {Endpoint} broke after {Chunks} chunk(s) had reached the caller ({Reason}); not retried, as that would duplicate output. Request id: {RequestId}")]
        public static partial void StreamInterrupted(ILogger logger, string client, string endpoint, int chunks, string reason, string requestId);
    }
}
