using System.ClientModel;            // ApiKeyCredential
using System.ClientModel.Primitives; // HttpClientPipelineTransport, ClientRetryPolicy
using LlmResilience;                 // LlmException
using LlmResilience.Testing;
using Microsoft.Extensions.AI;       // IChatClient, AsIChatClient (Microsoft.Extensions.AI.OpenAI)
using Microsoft.Extensions.DependencyInjection; // AddHttpClient, AddLlmResilienceHandler
using OpenAI;                        // OpenAIClientOptions

// Outside the LlmResilience namespace, as an app's file is. Compiles the README's "official adapter over our handler"
// snippet (QuickStartTests). It imports Microsoft.Extensions.AI and not OpenAI.Chat: both define ChatMessage, and a file
// that needs both qualifies one (here OpenAI.Chat.ChatClient).
namespace Contoso.ChatApp;

public sealed class OfficialIChatClientOverOurHandlerTests
{
    [Fact]
    public async Task ReadmeSnippet_RetriedFaults_AreInvisibleToTheIChatClientCaller()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "10" }));

        var (reply, failure) = await RunReadmeSnippetAsync(server.BaseAddress);

        Assert.Null(failure);
        Assert.Equal("Hello from FakeLlmServer.", reply!.Text);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task ReadmeSnippet_TransportFailureOnEveryAttempt_ReachesTheCallerAsLlmExceptionInside()
    {
        await using var server = await FakeLlmServer.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            server.Enqueue(FakeBehavior.ResetBeforeHeaders());
        }

        var (reply, failure) = await RunReadmeSnippetAsync(server.BaseAddress);

        Assert.Null(reply);
        Assert.Equal(LlmFailureKind.ResetBeforeHeaders, failure!.Kind);
        Assert.Equal(5, server.Requests.Count);
    }

    [Fact]
    public async Task ReadmeSnippet_ErrorResponse_StaysTheSdksClientResultExceptionWithItsStatus()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.InsufficientQuota());

        // Under AddLlmResilienceHandler the last response is handed to the SDK as it came (not retried here), and the SDK
        // turns an error status into its own exception.
        var failure = await Assert.ThrowsAsync<ClientResultException>(() => RunReadmeSnippetAsync(server.BaseAddress));

        Assert.Equal(429, failure.Status);
        Assert.Single(server.Requests);
    }

    // The README's snippet, with what a test adds: the fake server as baseAddress, a key, a short backoff.
    private static async Task<(ChatResponse? Reply, LlmException? Failure)> RunReadmeSnippetAsync(Uri baseAddress)
    {
        var services = new ServiceCollection();
        var apiKey = "sk-test";
        services.Configure<LlmResilienceOptions>("openai", o => o.BaseDelay = TimeSpan.FromMilliseconds(5));

        services.AddHttpClient("openai").AddLlmResilienceHandler();
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("openai");
        IChatClient chat = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential(apiKey), new OpenAIClientOptions
        {
            Endpoint = baseAddress,
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0), // ours do the retrying
        }).AsIChatClient();
        try
        {
            ChatResponse reply = await chat.GetResponseAsync("Hello!");
            return (reply, null);
        }
        catch (ClientResultException e) when (e.InnerException is LlmException failure)
        {
            Console.WriteLine(failure.Kind); // what the pipeline gave up on, e.g. ResetBeforeHeaders
            return (null, failure);
        }
    }
}
