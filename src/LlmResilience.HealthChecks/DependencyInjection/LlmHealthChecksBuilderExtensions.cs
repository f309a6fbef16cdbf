using LlmResilience;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the health check of an LlmResilience client (registered with <c>AddChatCompletionsClient</c>).</summary>
public static class LlmHealthChecksBuilderExtensions
{
    /// <summary>The name of the default client's check.</summary>
    public const string DefaultName = "llm";

    /// <summary>
    /// Adds a check named <c>"llm"</c> of the default <see cref="IChatCompletionsClient"/>: a <c>GET {base}models</c> ping
    /// per endpoint through the client's own HttpClient (its connections, proxy and certificates), one attempt each,
    /// cached for <see cref="LlmHealthCheckOptions.CacheDuration"/>. Healthy; Degraded when slow, rate limited, or an
    /// endpoint's breaker is open or half-open; Unhealthy when unreachable or unauthorized (with several endpoints: when
    /// none works). The data hold each endpoint's latency, status, request id and remaining rate-limit budget; never the key.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddLlmHealthCheck(this IHealthChecksBuilder builder) =>
        AddLlmHealthCheck(builder, Options.Options.DefaultName, DefaultName);

    /// <summary>Adds the check of the default client (see <see cref="AddLlmHealthCheck(IHealthChecksBuilder)"/>) with its ping adjusted.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configure">Adjusts the ping (validated at start-up).</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddLlmHealthCheck(this IHealthChecksBuilder builder, Action<LlmHealthCheckOptions> configure) =>
        AddLlmHealthCheck(builder, Options.Options.DefaultName, DefaultName, configure);

    /// <summary>Adds the check of the named client <paramref name="clientName"/> (see <see cref="AddLlmHealthCheck(IHealthChecksBuilder)"/>).</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="clientName">The name given to <c>AddChatCompletionsClient(name, ...)</c>.</param>
    /// <param name="name">The check's name; <see langword="null"/> is <c>llm-{clientName}</c>.</param>
    /// <param name="configure">Adjusts the ping (validated at start-up).</param>
    /// <param name="failureStatus">The status reported for an unhealthy client; <see langword="null"/> is <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (readiness, liveness).</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddLlmHealthCheck(this IHealthChecksBuilder builder, string clientName, string? name = null,
        Action<LlmHealthCheckOptions>? configure = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(clientName);
        name ??= clientName.Length == 0 ? DefaultName : $"{DefaultName}-{clientName}";
        var options = builder.Services.AddOptions<LlmHealthCheckOptions>(name).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlmHealthCheckOptions>, LlmHealthCheckOptionsValidator>());
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddKeyedSingleton(name, (sp, _) => new LlmHealthProbe(sp, clientName,
            sp.GetRequiredService<IOptionsMonitor<LlmHealthCheckOptions>>().Get(name)));
        return builder.Add(new HealthCheckRegistration(name, sp => new LlmHealthCheck(sp.GetRequiredKeyedService<LlmHealthProbe>(name)), failureStatus, tags));
    }
}
