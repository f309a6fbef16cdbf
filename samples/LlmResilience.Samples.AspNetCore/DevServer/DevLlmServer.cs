using LlmResilience.Testing;

namespace LlmResilience.Samples.AspNetCore.DevServer;

/// <summary>
/// FakeLlmServer as the sample's LLM when no API key is configured: every <see cref="LlmClientOptions"/> is pointed at it.
/// </summary>
/// <remarks>
/// It starts once the app is built, before it runs: options are resolved (and validated) only when the app starts, and by
/// then the server's address is known, even on a free port (as in the tests).
/// </remarks>
internal sealed class DevLlmServer(FakeLlmServerSettings settings) : IAsyncDisposable
{
    /// <summary>The attempts one call makes with the sample's <c>Llm:Resilience:MaxRetryAttempts</c> (2) plus the first.</summary>
    public const int AttemptsPerCall = 3;

    internal const string Answer =
        "This answer comes from FakeLlmServer, the sample's development server, through the LlmResilience pipeline: " +
        "when a connection reset or a rate limit comes first, as it does for the first answer, the pipeline retries " +
        "and you only wait a little longer. Each word arrives as its own server-sent event, relayed to your browser as " +
        "it is written. Close the page while an answer streams and the call to the model is cancelled at once, so " +
        "nobody pays for tokens that nobody reads.";

    private FakeLlmServer? _server;

    /// <summary>Gets the running server.</summary>
    public FakeLlmServer Server => _server ?? throw new InvalidOperationException("The development LLM server has not started: call StartAsync once the app is built.");

    /// <summary>
    /// Registers the server when <see cref="FakeLlmServerSettings.Mode"/> asks for it (by default: when neither
    /// <c>Llm:ApiKey</c> nor <c>OPENAI_API_KEY</c> is set); returns it, or null when the configured endpoint is called.
    /// </summary>
    public static DevLlmServer? AddIfConfigured(WebApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection("FakeLlmServer").Get<FakeLlmServerSettings>() ?? new FakeLlmServerSettings();
        var hasKey = !string.IsNullOrEmpty(builder.Configuration["Llm:ApiKey"])
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
        if (settings.Mode == FakeLlmServerMode.Never || (settings.Mode == FakeLlmServerMode.WhenNoApiKey && hasKey))
        {
            return null;
        }

        var dev = new DevLlmServer(settings);
        builder.Services.AddSingleton(dev);
        builder.Services.AddSingleton(_ => dev.Server);
        builder.Services.AddHostedService<Lifetime>();
        builder.Services.PostConfigureAll<LlmClientOptions>(options =>
        {
            options.BaseAddress = dev.Server.BaseAddress;
            options.ApiKey = null;
        });
        return dev;
    }

    /// <summary>Starts the server, with the first answer's faults when <see cref="FakeLlmServerSettings.InjectFaults"/> is set.</summary>
    public async Task StartAsync()
    {
        _server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions
        {
            Port = settings.Port,
            StreamInterval = settings.StreamInterval,
            DefaultContent = Answer,
        });
        if (settings.InjectFaults)
        {
            // Both are retried: the first answer arrives a little late, and the log shows why.
            _server.Enqueue(
                FakeBehavior.ResetBeforeHeaders(),
                FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "500" }));
        }
    }

    /// <summary>Stops the server.</summary>
    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Stops the server with the application.</summary>
    private sealed class Lifetime(DevLlmServer dev) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => dev.DisposeAsync().AsTask();
    }
}
