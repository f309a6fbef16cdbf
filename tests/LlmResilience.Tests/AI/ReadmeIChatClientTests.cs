using LlmResilience;           // ChatCompletionsClient, LlmClientOptions, LlmException
using LlmResilience.Testing;
using Microsoft.Extensions.AI; // IChatClient, ChatClientBuilder, AIFunctionFactory, AsIChatClient

// Outside the LlmResilience namespace, as an app's file is, so the README's using lines are the ones that compile it.
namespace Contoso.ChatApp;

/// <summary>Compiles and runs the README's IChatClient snippet (QuickStartTests checks the two agree).</summary>
public sealed class ReadmeIChatClientTests
{
    [Fact]
    public async Task ReadmeSnippet_ToolRoundTripOverTheFakeServer_AnswersWithTheToolsResult()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ToolCalls(new FakeToolCall("get_weather", """{"city":"Paris"}""")), FakeBehavior.Ok("It is 21 degrees in Paris."));
        var baseAddress = server.BaseAddress;

        using var typed = ChatCompletionsClient.Create(new LlmClientOptions { BaseAddress = baseAddress, Model = "gpt-4o-mini" });
        using IChatClient chat = new ChatClientBuilder(typed.AsIChatClient()).UseFunctionInvocation().Build();
        var weather = AIFunctionFactory.Create((string city) => $"21 degrees in {city}", "get_weather");
        ChatResponse reply = await chat.GetResponseAsync("Weather in Paris?", new ChatOptions { Tools = [weather] });

        Assert.Equal("It is 21 degrees in Paris.", reply.Text);
        Assert.Contains("21 degrees in Paris", server.Requests[1].Body, StringComparison.Ordinal);
    }
}
