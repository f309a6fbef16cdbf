using LlmResilience;         // ChatCompletionsClient, LlmClientOptions
using LlmResilience.Chat;    // ChatCompletionRequest, ChatMessage
using LlmResilience.Testing; // FakeLlmServer, FakeBehavior

// Outside the LlmResilience namespace, as a test project of yours is, so these usings are all it takes.
// Compiles the README's FakeLlmServer snippet (QuickStartTests checks the two agree).
namespace Contoso.ChatApp.Tests;

public sealed class ReadmeFakeLlmServerTests
{
    [Fact]
    public async Task ReadmeSnippet_ResetThenProxy503_SucceedsOnTheThirdRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.EnvoyUpstreamReset());
        using var client = ChatCompletionsClient.Create(new LlmClientOptions { BaseAddress = server.BaseAddress, Model = "m" });
        await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("hi")]));
        Assert.Equal(3, server.Requests.Count);
    }
}
