using LlmResilience.Chat;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmResilience.Tests.WireMock;

/// <summary>Compiles and runs the README's WireMock.Net snippet (QuickStartTests checks the two agree).</summary>
public sealed class ReadmeWireMockTests
{
    private const string completionJson = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m",
        "choices":[{"index":0,"message":{"role":"assistant","content":"Hi there."},"finish_reason":"stop"}]}
        """;

    [Fact]
    public async Task ReadmeSnippet_FailTwiceThenSucceed_AnswersOnTheThirdRequest()
    {
        using var server = WireMockServer.Start();
        var request = Request.Create().WithPath("/v1/chat/completions").UsingPost();
        var unavailable = Response.Create().WithStatusCode(503).WithHeader("retry-after-ms", "10");
        server.Given(request).InScenario("flaky").WillSetStateTo("failed-once").RespondWith(unavailable);
        server.Given(request).InScenario("flaky").WhenStateIs("failed-once").WillSetStateTo("failed-twice").RespondWith(unavailable);
        server.Given(request).InScenario("flaky").WhenStateIs("failed-twice").WillSetStateTo("failed-twice")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(completionJson));
        using var client = ChatCompletionsClient.Create(new LlmClientOptions { BaseAddress = new Uri(server.Url + "/v1/"), Model = "m" });
        var answer = await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("hi")]));
        Assert.Equal(3, server.LogEntries.Count());

        Assert.Equal("Hi there.", answer.Content);
    }
}
