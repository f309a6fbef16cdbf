namespace LlmResilience;

/// <summary>The defaults and bounds of <see cref="LlmRedisCoordinationOptions"/>.</summary>
internal static class LlmRedisDefaults
{
    public const string KeyPrefix = "llmresilience";

    public static readonly TimeSpan OperationTimeout = TimeSpan.FromMilliseconds(50);

    public static readonly TimeSpan MinOperationTimeout = TimeSpan.FromMilliseconds(1);

    public static readonly TimeSpan MaxOperationTimeout = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMilliseconds(10);

    public static readonly TimeSpan MaxRefreshInterval = TimeSpan.FromMinutes(1);
}
