using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>
/// Turns the configured endpoints into the selector a client or a handler routes with: one endpoint (from
/// <see cref="LlmClientOptions.BaseAddress"/>, or the request's own address) or a router over several.
/// </summary>
internal static class EndpointTargets
{
    private static readonly string[] AzureHostSuffixes = [".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com"];

    /// <summary>Whether <paramref name="address"/> is an Azure OpenAI / AI Foundry host, where a key travels as <c>api-key</c>.</summary>
    public static bool IsAzure(Uri? address) =>
        address is { IsAbsoluteUri: true } && AzureHostSuffixes.Any(suffix => address.Host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase));

    /// <summary>The key a typed client's endpoint is called with: its own, else the client's, else (for OpenAI's own host only) <c>OPENAI_API_KEY</c>.</summary>
    public static string? EffectiveKey(LlmEndpoint endpoint, LlmClientOptions options)
    {
        if (!string.IsNullOrEmpty(endpoint.ApiKey))
        {
            return endpoint.ApiKey;
        }

        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            return options.ApiKey;
        }

        return LlmClientOptions.IsOpenAi(endpoint.BaseAddress) ? Environment.GetEnvironmentVariable(LlmClientOptions.ApiKeyEnvironmentVariable) : null;
    }

    /// <summary>The header a fixed key goes in for <paramref name="address"/> under <paramref name="style"/>.</summary>
    public static string HeaderFor(LlmApiKeyStyle style, Uri? address, bool fromProvider) => style switch
    {
        LlmApiKeyStyle.Bearer => EndpointTarget.AuthorizationHeader,
        LlmApiKeyStyle.ApiKeyHeader => EndpointTarget.ApiKeyHeader,
        _ => !fromProvider && IsAzure(address) ? EndpointTarget.ApiKeyHeader : EndpointTarget.AuthorizationHeader,
    };

    /// <summary>The typed client's selector: its endpoints, or one made of its base address (whose key the client's requests carry themselves).</summary>
    public static IEndpointSelector ForClient(LlmClientOptions options, IEndpointStateStore store, TimeProvider time, ILogger logger, LlmMetrics? metrics = null)
    {
        if (options.Endpoints is not { Count: > 0 } endpoints)
        {
            var name = Endpoints.Describe(options.BaseAddress);
            return new SingleEndpointSelector(new EndpointTarget(name) { StateKey = name, State = store.Get(name) }, store);
        }

        return Build(endpoints, e => EffectiveKey(e, options), options.Resilience, store, time, logger, metrics);
    }

    /// <summary>The handler's selector when <see cref="LlmResilienceOptions.Endpoints"/> lists endpoints; <see langword="null"/> otherwise.</summary>
    public static IEndpointSelector? ForHandler(LlmResilienceOptions options, IEndpointStateStore store, TimeProvider time, ILogger logger, LlmMetrics? metrics = null) =>
        options.Endpoints is { Count: > 0 } endpoints ? Build(endpoints, static e => string.IsNullOrEmpty(e.ApiKey) ? null : e.ApiKey, options, store, time, logger, metrics) : null;

    private static IEndpointSelector Build(IList<LlmEndpoint> endpoints, Func<LlmEndpoint, string?> keyOf, LlmResilienceOptions options, IEndpointStateStore store,
        TimeProvider time, ILogger logger, LlmMetrics? metrics)
    {
        var routed = endpoints.Count > 1;
        var targets = new List<EndpointTarget>(endpoints.Count);
        foreach (var endpoint in endpoints)
        {
            var baseAddress = WithTrailingSlash(endpoint.BaseAddress!);
            var key = endpoint.ApiKeyProvider is null ? keyOf(endpoint) : null;
            var header = key is null && endpoint.ApiKeyProvider is null ? null : HeaderFor(endpoint.ApiKeyStyle, baseAddress, endpoint.ApiKeyProvider is not null);
            var stateKey = $"{endpoint.Name}#{Fingerprint(baseAddress, key, endpoint.ApiKeyProvider is not null)}";
            var state = store.Get(stateKey);
            if (routed)
            {
                state.EnsureBreaker(options.CircuitBreaker, time, logger, endpoint.Name, metrics);
            }

            state.ConfigurePacing(endpoint.RequestsPerMinute, endpoint.TokensPerMinute, time);

            targets.Add(new EndpointTarget(endpoint.Name, baseAddress, model: endpoint.Model)
            {
                StateKey = stateKey,
                CredentialHeader = header,
                CredentialValue = key is null ? null : header == EndpointTarget.AuthorizationHeader ? "Bearer " + key : key,
                CredentialProvider = endpoint.ApiKeyProvider,
                Secret = key,
                Priority = endpoint.Priority,
                Weight = endpoint.Weight,
                ContextWindowTokens = endpoint.ContextWindowTokens,
                RequestsPerMinute = endpoint.RequestsPerMinute,
                TokensPerMinute = endpoint.TokensPerMinute,
                State = state,
            });
        }

        if (!routed)
        {
            return new SingleEndpointSelector(targets[0], store);
        }

        var policy = new RoutingPolicy(options.MaxRetryAfter, options.QuotaExceededCooldown, options.CircuitBreaker.BreakDuration);
        return new EndpointRouter(targets, policy, time, logger, options.Randomizer ?? Random.Shared.NextDouble);
    }

    /// <summary><paramref name="address"/> with a trailing slash on its path, its query kept (Azure's <c>api-version</c>).</summary>
    public static Uri WithTrailingSlash(Uri address) =>
        address.AbsolutePath.EndsWith('/') ? address : new Uri(address.GetLeftPart(UriPartial.Path) + "/" + address.Query);

    /// <summary><c>chat/completions</c> (or another path) under <paramref name="baseAddress"/>, keeping the base's query.</summary>
    public static Uri Under(Uri baseAddress, string relative) =>
        baseAddress.Query.Length == 0 ? new Uri(baseAddress, relative) : new Uri(baseAddress.GetLeftPart(UriPartial.Path) + relative + baseAddress.Query);

    // Identifies the endpoint (in state stores, and later in Redis) by its address and key without holding the key.
    private static string Fingerprint(Uri baseAddress, string? key, bool provider)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"{baseAddress.AbsoluteUri}\n{(provider ? "(provider)" : key)}"));
        return Convert.ToHexStringLower(bytes.AsSpan(0, 8));
    }
}
