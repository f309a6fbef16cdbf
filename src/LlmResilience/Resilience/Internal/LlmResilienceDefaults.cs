namespace LlmResilience;

/// <summary>The defaults of <see cref="LlmResilienceOptions"/>; the README's options table gives the reason for each.</summary>
internal static class LlmResilienceDefaults
{
    public const int MaxRetryAttempts = 4;
    public const int PoolRecycleAfterTransportFailures = 3;
    public const long MaxResponseBytes = 32L * 1024 * 1024;

    public static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan FirstTokenTimeout = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan StreamIdleTimeout = TimeSpan.FromSeconds(90);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromMinutes(20);
    public static readonly TimeSpan PooledConnectionLifetime = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan Http2KeepAlivePingDelay = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan Http2KeepAlivePingTimeout = TimeSpan.FromSeconds(15);
}
