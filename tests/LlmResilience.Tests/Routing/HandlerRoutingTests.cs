using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Chat;

namespace LlmResilience.Tests.Routing;

/// <summary>Routing in the pipeline itself: another client (the official SDK) on AddLlmResilienceHandler fails over too.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class HandlerRoutingTests
{
    [Fact]
    public async Task OpenAiSdk_OnAddLlmResilienceHandler_FailsOverToAnotherRegion_WithThatRegionsKeyAndModel()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.EnvoyUpstreamReset();
        var services = new ServiceCollection();
        services.AddHttpClient("openai").AddLlmResilienceHandler(o =>
        {
            o.BaseDelay = TimeSpan.FromMilliseconds(5);
            o.Endpoints.Add(new LlmEndpoint { Name = "east", BaseAddress = primary.BaseAddress });
            o.Endpoints.Add(new LlmEndpoint { Name = "west", BaseAddress = secondary.BaseAddress, ApiKey = "sk-west-key-000", Model = "west-model", Priority = 1 });
        });
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("openai");
        var chat = new ChatClient("sdk-model", new ApiKeyCredential("sk-sdk-key-111"), new OpenAIClientOptions
        {
            Endpoint = primary.BaseAddress,
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        });

        OpenAI.Chat.ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        var streamed = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal("Hello from FakeLlmServer.", completion.Content[0].Text);
        Assert.Equal("Hello from FakeLlmServer.", streamed.ToString());
        // The first call met the east's failure and failed over; the breaker needs three failures, so the stream tried east too.
        Assert.Equal(2, primary.Requests.Count);
        Assert.All(primary.Requests, r => Assert.True(r.SentApiKey("sk-sdk-key-111")));
        Assert.All(primary.Requests, r => Assert.Contains("\"model\":\"sdk-model\"", r.Body, StringComparison.Ordinal));
        Assert.Equal(2, secondary.Requests.Count);
        Assert.All(secondary.Requests, r => Assert.True(r.SentApiKey("sk-west-key-000")));
        Assert.All(secondary.Requests, r => Assert.False(r.SentApiKey("sk-sdk-key-111")));
        Assert.All(secondary.Requests, r => Assert.Contains("\"model\":\"west-model\"", r.Body, StringComparison.Ordinal));
        Assert.All(secondary.Requests, r => Assert.Equal("/v1/chat/completions", r.Path));
    }

    [Fact]
    public async Task RequestUnderNoConfiguredEndpoint_FailsWithAMessageThatSaysWhereToPointTheClient()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var options = TestClients.FastResilience(o => o.Endpoints.Add(new LlmEndpoint { Name = "only", BaseAddress = new Uri(server.BaseAddress, "/other/") }));
        var (client, _) = TestClients.Pipeline(options);
        using var http = client;

        var exception = await Assert.ThrowsAsync<LlmException>(() => http.PostAsync(new Uri(server.BaseAddress, "chat/completions"), new StringContent("{}")));

        Assert.Equal(LlmFailureKind.BadRequest, exception.Kind);
        Assert.Contains("not under any configured endpoint's base address", exception.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData("""{"model":"a","messages":[]}""", """{"model":"b","messages":[]}""")]
    [InlineData("""{"messages":[{"role":"user","content":"{\"model\":\"x\"}"}],"model":"a"}""", """{"messages":[{"role":"user","content":"{\"model\":\"x\"}"}],"model":"b"}""")]
    [InlineData("""{"messages":[]}""", """{"model":"b","messages":[]}""")]
    [InlineData("""{}""", """{"model":"b"}""")]
    [InlineData("""{"model":null}""", """{"model":"b"}""")]
    [InlineData("""not json""", """not json""")]
    [InlineData("""[1]""", """[1]""")]
    public void ModelRewrite_SetsOnlyTheTopLevelModel(string body, string expected)
    {
        var rewritten = Encoding.UTF8.GetString(JsonModelRewriter.Rewrite(Encoding.UTF8.GetBytes(body), "b"));

        Assert.Equal(expected, rewritten);
    }

    [Fact]
    public void Endpoints_BindFromConfiguration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Llm:BaseAddress"] = "https://api.openai.com/v1/",
            ["Llm:ApiKey"] = "sk-config",
            ["Llm:Endpoints:0:Name"] = "eastus",
            ["Llm:Endpoints:0:BaseAddress"] = "https://east.openai.azure.com/openai/v1/?api-version=preview",
            ["Llm:Endpoints:0:ApiKey"] = "azure-east-key",
            ["Llm:Endpoints:0:Model"] = "gpt-4o",
            ["Llm:Endpoints:0:ContextWindowTokens"] = "128000",
            ["Llm:Endpoints:1:Name"] = "openai",
            ["Llm:Endpoints:1:BaseAddress"] = "https://api.openai.com/v1/",
            ["Llm:Endpoints:1:Priority"] = "1",
            ["Llm:Endpoints:1:Weight"] = "3",
            ["Llm:Endpoints:1:ApiKeyStyle"] = "Bearer",
            ["Llm:Endpoints:1:RequestsPerMinute"] = "500",
            ["Llm:Resilience:CircuitBreaker:BreakDuration"] = "00:00:20",
            ["Llm:Resilience:QuotaExceededCooldown"] = "00:10:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(configuration.GetSection("Llm"));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<LlmClientOptions>>().Get(Options.DefaultName);

        Assert.Equal(2, options.Endpoints.Count);
        var east = options.Endpoints[0];
        Assert.Equal(("eastus", "azure-east-key", "gpt-4o", 128_000), (east.Name, east.ApiKey, east.Model, east.ContextWindowTokens));
        Assert.Equal("?api-version=preview", east.BaseAddress!.Query);
        var openAi = options.Endpoints[1];
        Assert.Equal((1, 3, LlmApiKeyStyle.Bearer, 500), (openAi.Priority, openAi.Weight, openAi.ApiKeyStyle, openAi.RequestsPerMinute));
        Assert.Equal(TimeSpan.FromSeconds(20), options.Resilience.CircuitBreaker.BreakDuration);
        Assert.Equal(TimeSpan.FromMinutes(10), options.Resilience.QuotaExceededCooldown);
        Assert.DoesNotContain("azure-east-key", east.ToString(), StringComparison.Ordinal);
        Assert.NotNull(provider.GetRequiredService<IChatCompletionsClient>());
    }

    [Fact]
    public void Validation_NamesEachBadEndpointAndTheFix()
    {
        var options = new LlmClientOptions { BaseAddress = new Uri("https://api.openai.com/v1/"), Model = "m" };
        options.Endpoints.Add(new LlmEndpoint { Name = "a", BaseAddress = new Uri("https://a.example/v1/"), ApiKey = "k", Weight = 0 });
        options.Endpoints.Add(new LlmEndpoint { Name = "a", BaseAddress = new Uri("https://b.example/v1/"), ApiKey = "k", Priority = -1 });
        options.Endpoints.Add(new LlmEndpoint { Name = "", BaseAddress = new Uri("https://c.example/v1/chat/completions"), ApiKey = "k" });
        options.Endpoints.Add(new LlmEndpoint { Name = "nokey", BaseAddress = new Uri("https://d.example/v1/") });
        options.Endpoints.Add(new LlmEndpoint { Name = "limits", BaseAddress = new Uri("http://e.example/v1/"), ApiKey = "k", RequestsPerMinute = 0, TokensPerMinute = -5, ContextWindowTokens = 0 });
        options.Endpoints.Add(new LlmEndpoint { Name = "local", BaseAddress = new Uri("http://127.0.0.1:1234/v1/") });
        options.Resilience.CircuitBreaker.FailureRatio = 0;
        options.Resilience.CircuitBreaker.MinimumThroughput = 1;
        options.Resilience.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(100);

        var exception = Assert.Throws<OptionsValidationException>(() => ChatCompletionsClient.Create(options));
        var failures = exception.Failures.ToList();

        Assert.Contains(failures, f => f.StartsWith("Endpoints[0] 'a' Weight is 0: use 1 or more", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[1] 'a': the name is used by another endpoint too", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[1] 'a' Priority is -1", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[2] has no Name", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[2] BaseAddress 'https://c.example/v1/chat/completions' already ends in chat/completions", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[3] 'nokey' has no key for the remote host d.example", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[4] 'limits' BaseAddress 'http://e.example/v1/' uses plain http", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[4] 'limits' RequestsPerMinute is 0", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[4] 'limits' TokensPerMinute is -5", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Endpoints[4] 'limits' ContextWindowTokens is 0", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Resilience.CircuitBreaker.FailureRatio is 0", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Resilience.CircuitBreaker.MinimumThroughput is 1", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Resilience.CircuitBreaker.BreakDuration is 00:00:00.1", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("'local'", StringComparison.Ordinal));
        Assert.Equal(13, failures.Count);
    }

    [Fact]
    public void Validation_EndpointsUnderTheTypedClientsResilience_AreRefusedWithWhereToPutThem()
    {
        var options = new LlmClientOptions { BaseAddress = new Uri("http://127.0.0.1:1/v1/"), Model = "m" };
        options.Resilience.Endpoints.Add(new LlmEndpoint { Name = "x", BaseAddress = new Uri("http://127.0.0.1:2/v1/") });

        var exception = Assert.Throws<OptionsValidationException>(() => ChatCompletionsClient.Create(options));

        Assert.Contains(exception.Failures, f => f.Contains("list them in LlmClientOptions.Endpoints", StringComparison.Ordinal));
    }

    [Fact]
    public void OpenAiEnvironmentKey_GoesOnlyToOpenAisOwnHost()
    {
        using var scope = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        var options = new LlmClientOptions();
        var openAi = new LlmEndpoint { Name = "openai", BaseAddress = new Uri("https://api.openai.com/v1/") };
        var azure = new LlmEndpoint { Name = "azure", BaseAddress = new Uri("https://r.openai.azure.com/openai/v1/") };

        Assert.Equal("sk-from-environment", EndpointTargets.EffectiveKey(openAi, options));
        Assert.Null(EndpointTargets.EffectiveKey(azure, options));
    }
}
