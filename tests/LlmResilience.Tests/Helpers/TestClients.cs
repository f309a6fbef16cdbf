using LlmResilience.Chat;
using LlmResilience.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmResilience.Tests.Helpers;

/// <summary>Builds clients over a FakeLlmServer with millisecond-scale settings, so no test waits for seconds.</summary>
public static class TestClients
{
    public const string ApiKey = "sk-test-SECRET-0123456789abcdef";

    public static LlmResilienceOptions FastResilience(Action<LlmResilienceOptions>? configure = null)
    {
        var options = new LlmResilienceOptions
        {
            MaxRetryAttempts = 4,
            BaseDelay = TimeSpan.FromMilliseconds(40),
            MaxDelay = TimeSpan.FromMilliseconds(200),
            UseJitter = false,
            MaxRetryAfter = TimeSpan.FromSeconds(60),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            AttemptTimeout = TimeSpan.FromSeconds(5),
            FirstTokenTimeout = TimeSpan.FromSeconds(5),
            StreamIdleTimeout = TimeSpan.FromSeconds(5),
            TotalTimeout = TimeSpan.FromSeconds(20),
        };
        configure?.Invoke(options);
        return options;
    }

    public static ChatCompletionsClient Chat(FakeLlmServer server, Action<LlmResilienceOptions>? configure = null,
        TimeProvider? time = null, ILoggerFactory? loggerFactory = null, string? model = "test-model") =>
        Chat(server.BaseAddress, configure, time, loggerFactory, model);

    public static ChatCompletionsClient Chat(Uri baseAddress, Action<LlmResilienceOptions>? configure = null,
        TimeProvider? time = null, ILoggerFactory? loggerFactory = null, string? model = "test-model") =>
        ChatCompletionsClient.Create(new LlmClientOptions
        {
            BaseAddress = baseAddress,
            ApiKey = ApiKey,
            Model = model,
            Resilience = FastResilience(configure),
        }, loggerFactory, time);

    /// <summary>The typed client over an HttpClient that has no LlmResilience pipeline (the client must still fail with LlmException).</summary>
    internal static ChatCompletionsClient WithoutPipeline(HttpClient httpClient, LlmClientOptions options, ILogger? logger = null) =>
        new(httpClient, options, null,
            new ChatCompletionsClient.ClientServices(TimeProvider.System, logger ?? NullLogger.Instance, new LlmMetrics(null), new InMemoryEndpointStateStore()), httpClient);

    /// <summary>The raw pipeline on an HttpClient, for handler-level assertions.</summary>
    internal static (HttpClient Client, RecyclingConnectionHandler Connections) Pipeline(LlmResilienceOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var connections = new RecyclingConnectionHandler(options, logger);
        var handler = new LlmResilienceHandler(options, time ?? TimeProvider.System, logger) { InnerHandler = connections };
        return (new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }, connections);
    }

    public static ChatCompletionRequest Hello(string text = "Say hello") => new([ChatMessage.User(text)]);
}
