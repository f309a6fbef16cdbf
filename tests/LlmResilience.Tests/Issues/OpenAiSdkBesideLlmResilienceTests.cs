using System.ClientModel;            // ApiKeyCredential, ClientResultException
using System.ClientModel.Primitives; // HttpClientPipelineTransport, ClientRetryPolicy
using LlmResilience;                 // LlmException
using LlmResilience.Testing;
using Microsoft.Extensions.DependencyInjection; // AddHttpClient, AddLlmResilienceHandler
using OpenAI;
using OpenAI.Chat;                   // ChatClient, ChatMessage, ChatCompletion: ours are in LlmResilience.Chat, no clash

// Deliberately outside the LlmResilience namespace: inside it, LlmResilience's own types win over every using directive,
// so a clash could never show. This is an app's file that imports LlmResilience and the OpenAI SDK side by side, with no
// alias; that it compiles is half the proof (it failed with CS0104 on ChatMessage and ChatCompletion when the models lived
// in LlmResilience), the assertions are the other half. It also compiles the README's OpenAI SDK snippet (QuickStartTests).
namespace Contoso.ChatApp;

public sealed class OpenAiSdkBesideLlmResilienceTests
{
    [Fact]
    public void UnqualifiedNames_ResolveToTheOpenAiSdkModelsAndOurClient()
    {
        Assert.Equal(typeof(OpenAI.Chat.ChatMessage), typeof(ChatMessage));
        Assert.Equal(typeof(OpenAI.Chat.ChatCompletion), typeof(ChatCompletion));
        Assert.Equal(typeof(OpenAI.Chat.ChatFinishReason), typeof(ChatFinishReason));
        Assert.Equal("LlmResilience", typeof(LlmException).Namespace);
        Assert.Equal("LlmResilience", typeof(ChatCompletionsClient).Namespace);
        Assert.Equal("LlmResilience", typeof(IChatCompletionsClient).Namespace);
        Assert.Equal("LlmResilience", typeof(LlmClientOptions).Namespace);
        Assert.Equal("LlmResilience", typeof(LlmResilienceOptions).Namespace);
        Assert.Equal("LlmResilience", typeof(LlmFailureKind).Namespace);
        Assert.Equal("LlmResilience", typeof(LlmResilienceTelemetry).Namespace);
        Assert.Equal("LlmResilience.Chat", typeof(LlmResilience.Chat.ChatMessage).Namespace);
        Assert.Equal("LlmResilience.Chat", typeof(LlmResilience.Chat.ChatCompletion).Namespace);
        Assert.Equal("LlmResilience.Chat", typeof(LlmResilience.Chat.ChatFinishReason).Namespace);
    }

    [Fact]
    public void RootNamespace_SharesNoTypeNameWithTheOpenAiSdk()
    {
        var ours = typeof(LlmException).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == "LlmResilience")
            .Select(t => t.Name)
            .ToList();
        var openAi = typeof(ChatClient).Assembly.GetExportedTypes().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

        Assert.Contains(nameof(ChatCompletionsClient), ours);
        Assert.All(ours, name => Assert.DoesNotContain(name, openAi));
    }

    [Fact]
    public void ModelsNamespace_HoldsEveryWireModel()
    {
        var models = typeof(LlmException).Assembly.GetExportedTypes()
            .Where(t => t.Name.StartsWith("Chat", StringComparison.Ordinal) && t != typeof(ChatCompletionsClient))
            .ToList();

        Assert.True(models.Count >= 24, $"Only {models.Count} Chat* types.");
        Assert.All(models, t => Assert.Equal("LlmResilience.Chat", t.Namespace));
    }

    [Fact]
    public async Task ReadmeSnippet_OverTheFakeServer_CompletesWithTheSdkTypes()
    {
        await using var server = await FakeLlmServer.StartAsync();

        var (completion, failure) = await RunReadmeSnippetAsync(server.BaseAddress);

        Assert.Null(failure);
        Assert.Equal("Hello from FakeLlmServer.", completion!.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("/v1/chat/completions", Assert.Single(server.Requests).Path);
    }

    [Fact]
    public async Task ReadmeSnippet_TransportFailure_ReachesTheSdkCallerAsLlmException()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders());

        var (completion, failure) = await RunReadmeSnippetAsync(server.BaseAddress);

        Assert.Null(completion);
        Assert.Equal(LlmFailureKind.ResetBeforeHeaders, failure!.Kind);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task OurClient_InTheSameFile_TakesOurModelsByTheirNamespace()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = ChatCompletionsClient.Create(new LlmClientOptions { BaseAddress = server.BaseAddress, ApiKey = "sk-test", Model = "m" });

        var answer = await client.CompleteAsync(new LlmResilience.Chat.ChatCompletionRequest([LlmResilience.Chat.ChatMessage.User("Hello!")]));

        Assert.Equal("Hello from FakeLlmServer.", answer.Content);
        Assert.Equal(LlmResilience.Chat.ChatFinishReason.Stop, answer.FinishReason);
        Assert.Equal(LlmResilience.Chat.ChatRole.Assistant, answer.Choices[0].Message.Role);
    }

    // The README's snippet, with what a test adds: the fake server as baseAddress, a key, no retries (so a failure comes at once).
    private static async Task<(ChatCompletion? Completion, LlmException? Failure)> RunReadmeSnippetAsync(Uri baseAddress)
    {
        var services = new ServiceCollection();
        var apiKey = "sk-test";
        services.Configure<LlmResilienceOptions>("openai", o => o.MaxRetryAttempts = 0);

        services.AddHttpClient("openai").AddLlmResilienceHandler();
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("openai");
        var chat = new ChatClient("gpt-4o-mini", new ApiKeyCredential(apiKey), new OpenAIClientOptions
        {
            Endpoint = baseAddress,                 // https://api.openai.com/v1/ or any OpenAI-compatible API
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0), // ours do the retrying
        });
        List<ChatMessage> messages = [new UserChatMessage("Hello!")];
        try
        {
            ChatCompletion completion = await chat.CompleteChatAsync(messages);
            return (completion, null);
        }
        catch (ClientResultException e) when (e.InnerException is LlmException failure)
        {
            Console.WriteLine(failure.Kind); // what the pipeline gave up on, e.g. ResetBeforeHeaders
            return (null, failure);
        }
    }
}
