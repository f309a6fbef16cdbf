using System.Net;

namespace LlmResilience;

/// <summary>Builds the tuned <see cref="SocketsHttpHandler"/> under the pipeline.</summary>
internal static class LlmSocketsHandlerFactory
{
    /// <summary>Our defaults first, then the caller's <see cref="LlmResilienceOptions.ConfigurePrimaryHandler"/>, which may override them.</summary>
    public static SocketsHttpHandler Create(LlmResilienceOptions options)
    {
        var handler = CreateDefault(options);
        options.ConfigurePrimaryHandler?.Invoke(handler);
        return handler;
    }

    private static SocketsHttpHandler CreateDefault(LlmResilienceOptions options) => new()
    {
        ConnectTimeout = options.ConnectTimeout,
        // DNS changes and fail-overs are picked up when connections are renewed; the guidance for long-lived clients.
        PooledConnectionLifetime = options.PooledConnectionLifetime,
        // Below the common 60 s idle timeout of load balancers: a connection the far side is about to close is
        // dropped by us first, which narrows the stale keep-alive race.
        PooledConnectionIdleTimeout = options.PooledConnectionIdleTimeout,
        // Decompression is done by ResponseDecompression, for a fraction of the per-request cost.
        AutomaticDecompression = DecompressionMethods.None,
        // HttpClient.DefaultProxy: HTTPS_PROXY / HTTP_PROXY / NO_PROXY, or the system's settings.
        UseProxy = true,
        EnableMultipleHttp2Connections = true,
        KeepAlivePingDelay = LlmResilienceDefaults.Http2KeepAlivePingDelay,
        KeepAlivePingTimeout = LlmResilienceDefaults.Http2KeepAlivePingTimeout,
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        // Redirects would re-send the key to another host; OpenAI-compatible APIs do not redirect.
        AllowAutoRedirect = false,
    };
}
