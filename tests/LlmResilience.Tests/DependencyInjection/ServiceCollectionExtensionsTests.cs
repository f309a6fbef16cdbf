using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Chat;
using ChatMessage = LlmResilience.Chat.ChatMessage;

namespace LlmResilience.Tests.DependencyInjection;

[Collection(EnvironmentCollection.Name)]
public sealed class ServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddChatCompletionsClient_ResolvesAResilientClient()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.EnvoyUpstreamReset());
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o =>
        {
            o.BaseAddress = server.BaseAddress;
            o.Model = "di-model";
            o.Resilience.BaseDelay = TimeSpan.FromMilliseconds(5);
        });
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IChatCompletionsClient>();
        var completion = await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("hi")]));

        Assert.NotNull(completion.Content);
        Assert.Equal(3, server.Requests.Count);
        Assert.Same(client, provider.GetRequiredService<IChatCompletionsClient>());
    }

    [Fact]
    public async Task AddChatCompletionsClient_DefaultRequestHeadersTheAppSetOnItsHttpClient_AreSentOnEveryAttempt()
    {
        // The typed client sends straight into the handler chain only when its HttpClient has nothing of its own to add.
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503));
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o =>
            {
                o.BaseAddress = server.BaseAddress;
                o.Model = "m";
                o.Resilience.BaseDelay = TimeSpan.FromMilliseconds(5);
            })
            .ConfigureHttpClient(c => c.DefaultRequestHeaders.Add("X-Team", "search"));
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<IChatCompletionsClient>().CompleteAsync(new ChatCompletionRequest([ChatMessage.User("hi")]));

        Assert.Equal(2, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("search", r.Headers["X-Team"]));
    }

    [Fact]
    public async Task AddChatCompletionsClient_ATimeoutTheAppSetOnItsHttpClient_StillEndsTheCall()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Hang());
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o =>
            {
                (o.BaseAddress, o.Model) = (server.BaseAddress, "m");
                // Far beyond the app's 200 ms, and bounded: a client that ignored the app's timeout fails here, never hangs.
                (o.Resilience.AttemptTimeout, o.Resilience.MaxRetryAttempts) = (TimeSpan.FromSeconds(3), 0);
            })
            .ConfigureHttpClient(c => c.Timeout = TimeSpan.FromMilliseconds(200));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatCompletionsClient>();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var failure = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("hi")])));

        // HttpClient's own timeout, not the pipeline's.
        Assert.IsType<TimeoutException>(failure.InnerException);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        Assert.Single(server.Requests);
    }

    [Fact]
    public void SenderFor_AnHttpClientWithNothingOfItsOwn_IsBypassed_OtherwiseKept()
    {
        using var chain = new HttpClientHandler();
        using var plain = new HttpClient(chain, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        using var withTimeout = new HttpClient(chain, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) };
        using var withHeaders = new HttpClient(chain, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        withHeaders.DefaultRequestHeaders.Add("X-Team", "search");

        using var bypassed = LlmResilienceServiceCollectionExtensions.SenderFor(plain, () => chain);

        Assert.IsNotType<HttpClient>(bypassed);
        Assert.Same(withTimeout, LlmResilienceServiceCollectionExtensions.SenderFor(withTimeout, () => throw new InvalidOperationException("not asked")));
        Assert.Same(withHeaders, LlmResilienceServiceCollectionExtensions.SenderFor(withHeaders, () => throw new InvalidOperationException("not asked")));
    }

    [Fact]
    public async Task AddChatCompletionsClient_NamedClients_AreKeyedServicesWithTheirOwnOptions()
    {
        await using var fast = await FakeLlmServer.StartAsync();
        await using var smart = await FakeLlmServer.StartAsync();
        var services = new ServiceCollection();
        services.AddChatCompletionsClient("fast", o => { o.BaseAddress = fast.BaseAddress; o.Model = "small"; });
        services.AddChatCompletionsClient("smart", o => { o.BaseAddress = smart.BaseAddress; o.Model = "large"; });
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredKeyedService<IChatCompletionsClient>("fast").CompleteAsync(new ChatCompletionRequest([ChatMessage.User("a")]));
        await provider.GetRequiredKeyedService<IChatCompletionsClient>("smart").CompleteAsync(new ChatCompletionRequest([ChatMessage.User("b")]));

        Assert.Contains("\"model\":\"small\"", Assert.Single(fast.Requests).Body);
        Assert.Contains("\"model\":\"large\"", Assert.Single(smart.Requests).Body);
    }

    [Fact]
    public async Task AddChatCompletionsClient_FromConfiguration_BindsEverySetting()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(500), 2);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Llm:BaseAddress"] = server.BaseAddress.ToString(),
            ["Llm:ApiKey"] = "from-config",
            ["Llm:Model"] = "config-model",
            ["Llm:Resilience:MaxRetryAttempts"] = "1",
            ["Llm:Resilience:BaseDelay"] = "00:00:00.005",
        }).Build();
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(configuration.GetSection("Llm"));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<LlmClientOptions>>().Get(Options.DefaultName);
        Assert.Equal(1, options.Resilience.MaxRetryAttempts);
        var error = await Assert.ThrowsAsync<LlmException>(() =>
            provider.GetRequiredService<IChatCompletionsClient>().CompleteAsync(new ChatCompletionRequest([ChatMessage.User("a")])));

        Assert.Equal(2, error.Attempts);
        Assert.True(server.Requests[0].SentApiKey("from-config"), "The request did not carry the configured API key.");
        Assert.Contains("\"model\":\"config-model\"", server.Requests[0].Body);
    }

    [Fact]
    public async Task AddChatCompletionsClient_InvalidOptions_FailHostStartWithHowToFix()
    {
        using var noKey = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, null);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddChatCompletionsClient(o =>
        {
            o.BaseAddress = new Uri("https://api.example.com/v1/");
            o.ApiKey = "";
            o.Resilience.StreamIdleTimeout = TimeSpan.FromHours(1);
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains("ApiKey is not set", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("StreamIdleTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddLlmResilienceHandler_OnAPlainHttpClient_RetriesAndDisablesTheHiddenTimeout()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.EnvoyUpstreamReset());
        var services = new ServiceCollection();
        services.AddHttpClient("raw").AddLlmResilienceHandler(o => o.BaseDelay = TimeSpan.FromMilliseconds(5));
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("raw");

        using var response = await http.PostAsync(new Uri(server.BaseAddress, "chat/completions"),
            new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Timeout.InfiniteTimeSpan, http.Timeout);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(server.Requests[0].Body, server.Requests[1].Body);
    }

    [Fact]
    public async Task AddLlmResilienceHandler_UnderTheOfficialOpenAiSdk_SurvivesResetsAndProxy503s()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.EnvoyUpstreamReset());
        server.Enqueue(FakeBehavior.StreamStallAfter(0), FakeBehavior.CloseBeforeHeaders());
        var services = new ServiceCollection();
        services.AddHttpClient("openai").AddLlmResilienceHandler(o =>
        {
            o.BaseDelay = TimeSpan.FromMilliseconds(5);
            // Long enough for a loaded CI machine between two events of the healthy stream; still short for the stalled one.
            o.FirstTokenTimeout = TimeSpan.FromMilliseconds(600);
            o.StreamIdleTimeout = TimeSpan.FromMilliseconds(600);
        });
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("openai");
        var chat = new ChatClient("fake-model", new ApiKeyCredential("sk-x"), new OpenAIClientOptions
        {
            Endpoint = server.BaseAddress,
            Transport = new HttpClientPipelineTransport(http),
            // The SDK's own retries are off: ours do the work.
            RetryPolicy = new ClientRetryPolicy(0),
        });

        OpenAI.Chat.ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        var streamed = new System.Text.StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal("Hello from FakeLlmServer.", completion.Content[0].Text);
        Assert.Equal("Hello from FakeLlmServer.", streamed.ToString());
        Assert.Equal(6, server.Requests.Count);
    }

    [Fact]
    public async Task AddChatCompletionsClient_NamedClientInvalid_FailureNamesTheClient()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddChatCompletionsClient("fast", o =>
        {
            o.BaseAddress = new Uri("http://127.0.0.1:5000/v1/");
            o.Resilience.AttemptTimeout = TimeSpan.FromHours(2);
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal("fast", error.OptionsName);
        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("LlmClientOptions 'fast': Resilience.AttemptTimeout", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddChatCompletionsClient_RemoteHostWithOnlyTheEnvironmentKey_FailsHostStart()
    {
        using var key = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddChatCompletionsClient(o => o.BaseAddress = new Uri("https://llm.example.com/v1/"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("LlmClientOptions (default client): ApiKey is not set for the remote endpoint llm.example.com", failure, StringComparison.Ordinal);
        Assert.Contains("only used for api.openai.com", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddChatCompletionsClient_OpenAiWithTheEnvironmentKey_StartsAndUsesIt()
    {
        using var key = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddChatCompletionsClient(o => o.Model = "gpt-4o-mini");
        using var host = builder.Build();

        await host.StartAsync();

        Assert.Equal("sk-from-environment", host.Services.GetRequiredService<IOptionsMonitor<LlmClientOptions>>().Get(Options.DefaultName).ApiKey);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddLlmResilienceHandler_InvalidOptions_FailureNamesTheHttpClient()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddHttpClient("openai").AddLlmResilienceHandler(o => o.MaxRetryAttempts = -1);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.StartsWith("LlmResilienceOptions of HttpClient 'openai': MaxRetryAttempts is -1", Assert.Single(error.Failures), StringComparison.Ordinal);
    }
}
