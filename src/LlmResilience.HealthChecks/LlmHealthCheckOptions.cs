namespace LlmResilience;

/// <summary>How <c>AddLlmHealthCheck()</c> pings a client's endpoints: <c>GET {base}models</c>, which costs no tokens.</summary>
/// <remarks>Validated at start-up; a failure names the check and says how to fix it.</remarks>
public sealed class LlmHealthCheckOptions
{
    /// <summary>How long a ping's result is reused: health probes arriving meanwhile (several replicas, a dashboard, a storm) do not reach the provider.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may take before the endpoint counts as unreachable. A ping is one attempt, never retried.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A ping slower than this reports the endpoint Degraded.</summary>
    /// <value>The default value is 2 seconds.</value>
    public TimeSpan DegradedLatency { get; set; } = TimeSpan.FromSeconds(2);
}
