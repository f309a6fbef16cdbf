using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>
/// Every log line of LlmResilience, source-generated. Stable event ids; endpoints are logged without user info or
/// query strings; the API key and prompt text never appear. <c>{Client}</c> is the named client's name ("default"
/// for the default client, the HttpClient's name under another client).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "Retrying", Level = LogLevel.Warning,
        Message = "LLM call ({Client}) to {Endpoint}: attempt {Attempt} failed ({Reason}); retrying in {DelayMs} ms. Request id: {RequestId}")]
    public static partial void Retrying(ILogger logger, string client, string endpoint, int attempt, string reason, long delayMs, string? requestId);

    [LoggerMessage(EventId = 2, EventName = "GivingUp", Level = LogLevel.Warning,
        Message = "LLM call ({Client}) to {Endpoint} failed after {Attempts}: {Kind} ({Reason}; {StopReason}). Request id: {RequestId}")]
    public static partial void GivingUp(ILogger logger, string client, string endpoint, string attempts, LlmFailureKind kind, string reason, string stopReason, string? requestId);

    [LoggerMessage(EventId = 3, EventName = "PoolRecycled", Level = LogLevel.Warning,
        Message = "Connection pool dropped after {Failures} transport failures in a row to {Endpoint}; the next attempt opens fresh connections")]
    public static partial void PoolRecycled(ILogger logger, string endpoint, int failures);

    [LoggerMessage(EventId = 4, EventName = "StreamInterrupted", Level = LogLevel.Warning,
        Message = "LLM stream ({Client}) from {Endpoint} broke after {Chunks} chunk(s) had reached the caller ({Reason}); not retried, as that would duplicate output. Request id: {RequestId}")]
    public static partial void StreamInterrupted(ILogger logger, string client, string endpoint, int chunks, string reason, string? requestId);
}
