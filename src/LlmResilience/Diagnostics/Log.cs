using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>
/// Every log line of LlmResilience, source-generated. Stable event ids; endpoints are logged without query strings;
/// the API key and prompt text never appear.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "Retrying", Level = LogLevel.Warning,
        Message = "LLM call to {Endpoint} failed on attempt {Attempt} ({Reason}); retrying in {DelayMs} ms. Request id: {RequestId}")]
    public static partial void Retrying(ILogger logger, string endpoint, int attempt, string reason, long delayMs, string? requestId);

    [LoggerMessage(EventId = 2, EventName = "GivingUp", Level = LogLevel.Warning,
        Message = "LLM call to {Endpoint} gave up after {Attempts} attempt(s): {Reason}. Request id: {RequestId}")]
    public static partial void GivingUp(ILogger logger, string endpoint, int attempts, string reason, string? requestId);

    [LoggerMessage(EventId = 3, EventName = "PoolRecycled", Level = LogLevel.Warning,
        Message = "Connection pool dropped after {Failures} transport failures in a row to {Endpoint}; the next attempt opens fresh connections")]
    public static partial void PoolRecycled(ILogger logger, string endpoint, int failures);

    [LoggerMessage(EventId = 4, EventName = "StreamInterrupted", Level = LogLevel.Warning,
        Message = "Stream from {Endpoint} broke after {Chunks} chunk(s) had reached the caller ({Reason}); not retried, as that would duplicate output. Request id: {RequestId}")]
    public static partial void StreamInterrupted(ILogger logger, string endpoint, int chunks, string reason, string? requestId);
}
