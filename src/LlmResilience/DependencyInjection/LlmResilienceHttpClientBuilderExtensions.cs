using LlmResilience;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts the LlmResilience pipeline on any <see cref="HttpClient"/> registered with IHttpClientFactory.</summary>
public static class LlmResilienceHttpClientBuilderExtensions
{
    internal const string LoggerCategory = "LlmResilience";

    /// <summary>
    /// Adds the LlmResilience pipeline (total timeout → retry → attempt timeout → tuned, self-recycling
    /// <see cref="System.Net.Http.SocketsHttpHandler"/>) to this client, and sets its <see cref="HttpClient.Timeout"/> to
    /// infinite so that the pipeline's timeouts, not the hidden 100 seconds, decide. Works under the official OpenAI SDK
    /// or any other code that calls an OpenAI-compatible API through this client.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="configure">Adjusts the options (named after the client); validated at start-up.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder AddLlmResilienceHandler(this IHttpClientBuilder builder, Action<LlmResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var name = builder.Name;
        var options = builder.Services.AddOptions<LlmResilienceOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlmResilienceOptions>, LlmResilienceOptionsValidator>());
        return builder.AddLlmPipeline(sp => sp.GetRequiredService<IOptionsMonitor<LlmResilienceOptions>>().Get(name), name);
    }

    internal static IHttpClientBuilder AddLlmPipeline(this IHttpClientBuilder builder, Func<IServiceProvider, LlmResilienceOptions> getOptions, string? clientName)
    {
        AddSharedServices(builder.Services);
        builder.ConfigureHttpClient(static client => client.Timeout = Timeout.InfiniteTimeSpan);
        builder.ConfigurePrimaryHttpMessageHandler(sp => new RecyclingConnectionHandler(getOptions(sp), CreateLogger(sp), metrics: sp.GetRequiredService<LlmMetrics>()));
        builder.AddHttpMessageHandler(sp => new LlmResilienceHandler(getOptions(sp), sp.GetRequiredService<TimeProvider>(), CreateLogger(sp),
            sp.GetRequiredService<LlmMetrics>(), sp.GetRequiredService<IEndpointStateStore>(), clientName));
        // PooledConnectionLifetime and the pool recycling renew connections; the factory's own handler rotation
        // would only drop the recycling state and open needless connections.
        builder.SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        return builder;
    }

    /// <summary>What every client and pipeline of one container shares: the clock, the instruments (from the container's
    /// <see cref="System.Diagnostics.Metrics.IMeterFactory"/> when it has one) and the per-endpoint state.</summary>
    internal static void AddSharedServices(IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new LlmMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<IEndpointStateStore, InMemoryEndpointStateStore>();
    }

    internal static ChatCompletionsClient.ClientServices ClientServices(IServiceProvider services) =>
        new(services.GetRequiredService<TimeProvider>(), CreateLogger(services), services.GetRequiredService<LlmMetrics>(), services.GetRequiredService<IEndpointStateStore>());

    internal static ILogger CreateLogger(IServiceProvider services) =>
        services.GetService<ILoggerFactory>()?.CreateLogger(LoggerCategory) ?? NullLogger.Instance;
}
