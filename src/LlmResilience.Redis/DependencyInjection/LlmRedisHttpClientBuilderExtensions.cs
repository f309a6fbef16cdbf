using LlmResilience;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Shares what one instance learns about an endpoint with every instance of a fleet, through Redis.</summary>
public static class LlmRedisHttpClientBuilderExtensions
{
    /// <summary>
    /// Shares endpoint state through the Redis at <paramref name="redisConfiguration"/>: a 429/503 cooldown, a sidelined
    /// key (<c>insufficient_quota</c>, 401/403) or an open breaker learned by one instance keeps every instance off that
    /// endpoint for as long. Applies to every LlmResilience client of the container. Redis is never on a call's path for
    /// longer than <see cref="LlmRedisCoordinationOptions.OperationTimeout"/>; while it is out, each instance goes on
    /// with its local state.
    /// </summary>
    /// <param name="builder">The builder <c>AddChatCompletionsClient</c> (or <c>AddHttpClient(...).AddLlmResilienceHandler()</c>) returned.</param>
    /// <param name="redisConfiguration">A StackExchange.Redis configuration string, such as <c>localhost:6379</c>.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder AddLlmRedisCoordination(this IHttpClientBuilder builder, string redisConfiguration) =>
        AddLlmRedisCoordination(builder, redisConfiguration, static _ => { });

    /// <summary>Shares endpoint state through the Redis at <paramref name="redisConfiguration"/>, with adjusted options (see the other overloads).</summary>
    /// <param name="builder">The builder <c>AddChatCompletionsClient</c> returned.</param>
    /// <param name="redisConfiguration">A StackExchange.Redis configuration string, such as <c>localhost:6379</c>.</param>
    /// <param name="configure">Adjusts the options; validated at start-up.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder AddLlmRedisCoordination(this IHttpClientBuilder builder, string redisConfiguration, Action<LlmRedisCoordinationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(redisConfiguration);
        ArgumentNullException.ThrowIfNull(configure);
        ConfigurationOptions parsed;
        try
        {
            parsed = ConfigurationOptions.Parse(redisConfiguration);
        }
        catch (ArgumentException ex)
        {
            // Not the string itself: it may hold a password.
            throw new ArgumentException($"The Redis configuration string could not be parsed ({ex.GetType().Name}); pass one such as 'localhost:6379' or 'host:6379,password=...'.",
                nameof(redisConfiguration));
        }

        return Register(builder, configure, _ => options => Connect(parsed, options), ownsConnection: true);
    }

    /// <summary>Shares endpoint state through the <see cref="IConnectionMultiplexer"/> registered in the container (see the other overloads).</summary>
    /// <param name="builder">The builder <c>AddChatCompletionsClient</c> returned.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder AddLlmRedisCoordination(this IHttpClientBuilder builder) =>
        AddLlmRedisCoordination(builder, static _ => { });

    /// <summary>Shares endpoint state through the <see cref="IConnectionMultiplexer"/> registered in the container, with adjusted options.</summary>
    /// <param name="builder">The builder <c>AddChatCompletionsClient</c> returned.</param>
    /// <param name="configure">Adjusts the options; validated at start-up.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder AddLlmRedisCoordination(this IHttpClientBuilder builder, Action<LlmRedisCoordinationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, configure, static sp =>
        {
            var connection = sp.GetService<IConnectionMultiplexer>()
                ?? throw new InvalidOperationException("AddLlmRedisCoordination() uses the IConnectionMultiplexer registered in the container, and there is none: register one, or pass a configuration string to AddLlmRedisCoordination(\"host:6379\").");
            return _ => Task.FromResult(connection);
        }, ownsConnection: false);
    }

    private static IHttpClientBuilder Register(IHttpClientBuilder builder, Action<LlmRedisCoordinationOptions> configure,
        Func<IServiceProvider, Func<LlmRedisCoordinationOptions, Task<IConnectionMultiplexer>>> connectFor, bool ownsConnection)
    {
        var services = builder.Services;
        services.AddOptions<LlmRedisCoordinationOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlmRedisCoordinationOptions>, LlmRedisCoordinationOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<LlmRedisCoordinationOptions>>().Value;
            var connect = connectFor(sp);
            var logger = sp.GetService<ILoggerFactory>()?.CreateLogger("LlmResilience") ?? NullLogger.Instance;
            return new RedisEndpointStateStore(_ => connect(options), ownsConnection, options, sp.GetRequiredService<TimeProvider>(), logger);
        });
        services.Replace(ServiceDescriptor.Singleton<IEndpointStateStore>(static sp => sp.GetRequiredService<RedisEndpointStateStore>()));
        return builder;
    }

    // Never blocks start-up nor a call on Redis: connects in the background and fails commands fast while it is out.
    private static async Task<IConnectionMultiplexer> Connect(ConfigurationOptions configuration, LlmRedisCoordinationOptions options)
    {
        var copy = configuration.Clone();
        copy.AbortOnConnectFail = false;
        copy.BacklogPolicy = BacklogPolicy.FailFast;
        var timeout = (int)Math.Max(options.OperationTimeout.TotalMilliseconds, 1);
        copy.AsyncTimeout = Math.Max(copy.AsyncTimeout == 0 ? 0 : timeout, timeout);
        copy.SyncTimeout = timeout;
        return await ConnectionMultiplexer.ConnectAsync(copy).ConfigureAwait(false);
    }
}
