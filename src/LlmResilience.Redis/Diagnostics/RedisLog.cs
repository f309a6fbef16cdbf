using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>The log lines of the Redis coordination. Stable event ids (100+, beside the core's); never a key or a prompt.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 100, EventName = "RedisUnavailable", Level = LogLevel.Warning,
        Message = "Redis is unreachable, slow or failing ({Reason}): every LlmResilience endpoint state stays local until it answers again. Calls go on; check the Redis configuration and server.")]
    public static partial void Unavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 101, EventName = "RedisRestored", Level = LogLevel.Information,
        Message = "Redis answers again: LlmResilience endpoint state is shared with the other instances once more.")]
    public static partial void Restored(ILogger logger);
}
