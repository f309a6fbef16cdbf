using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace LlmResilience.Testing.Tests;

/// <summary>The official OpenAI .NET SDK (2.15.0) reads what the fake server writes.</summary>
public sealed class OpenAiSdkCompatibilityTests
{
    [Fact]
    public async Task CompleteChat_OkBehavior_SdkParsesTheCompletion()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var client = CreateClient(server);

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Say hello to the tests")]);

        Assert.Equal("Hello from FakeLlmServer.", Assert.Single(completion.Content).Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("fake-model", completion.Model);
        Assert.Equal("fp_fake", completion.SystemFingerprint);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Null(completion.Refusal);
        Assert.Equal(5, completion.Usage.InputTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal(8, completion.Usage.TotalTokenCount);
        Assert.Equal(0, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
        var recorded = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", recorded.Path);
        Assert.Equal("Bearer [redacted]", recorded.Headers["Authorization"]);
        Assert.True(recorded.SentApiKey("k"), "The SDK's request did not carry its API key.");
        Assert.False(recorded.IsStreaming);
    }

    [Fact]
    public async Task CompleteChat_ToolCallsBehavior_SdkReadsTheCalls()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ToolCalls(new FakeToolCall("get_weather", """{"city":"Paris"}""", id: "call_1"), new FakeToolCall("get_time", "{}")));
        var client = CreateClient(server);

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Weather?")]);

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal(2, completion.ToolCalls.Count);
        Assert.Equal("call_1", completion.ToolCalls[0].Id);
        Assert.Equal("get_weather", completion.ToolCalls[0].FunctionName);
        Assert.Equal("""{"city":"Paris"}""", completion.ToolCalls[0].FunctionArguments.ToString());
        Assert.StartsWith("call_", completion.ToolCalls[1].Id, StringComparison.Ordinal);
        Assert.Empty(completion.Content);
    }

    [Fact]
    public async Task CompleteChatStreaming_ToolCallsBehavior_SdkAssemblesTheFragments()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ToolCalls(new FakeToolCall("get_weather", """{"city":"Paris"}""", id: "call_1"), new FakeToolCall("get_time", """{"tz":"CET"}""", id: "call_2")));
        var client = CreateClient(server);

        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finishReason = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Weather?")]))
        {
            finishReason ??= update.FinishReason;
            foreach (var call in update.ToolCallUpdates)
            {
                if (call.ToolCallId is { } id)
                {
                    ids[call.Index] = id;
                    names[call.Index] = call.FunctionName;
                }

                (arguments.TryGetValue(call.Index, out var text) ? text : arguments[call.Index] = new StringBuilder()).Append(call.FunctionArgumentsUpdate.ToString());
            }
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finishReason);
        Assert.Equal("call_1", ids[0]);
        Assert.Equal("get_time", names[1]);
        Assert.Equal("""{"city":"Paris"}""", arguments[0].ToString());
        Assert.Equal("""{"tz":"CET"}""", arguments[1].ToString());
        Assert.True(Assert.Single(server.Requests).IsStreaming);
    }

    [Fact]
    public void CompleteChat_Synchronous_SdkParsesTheCompletion()
    {
        using var server = StartSynchronously();
        var client = CreateClient(server.Server);

        ChatCompletion completion = client.CompleteChat([new UserChatMessage("Hi")]);

        Assert.Equal("Hello from FakeLlmServer.", completion.Content[0].Text);
    }

    [Fact]
    public async Task CompleteChatStreaming_OkBehavior_SdkAssemblesTheText()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var client = CreateClient(server);

        var text = new StringBuilder();
        var updates = 0;
        ChatFinishReason? finishReason = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Hello")]))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finishReason ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal("Hello from FakeLlmServer.", text.ToString());
        Assert.True(updates >= 5, $"{updates} updates.");
        Assert.Equal(ChatFinishReason.Stop, finishReason);
        // The SDK always asks for the usage chunk when it streams.
        var recorded = Assert.Single(server.Requests);
        Assert.True(recorded.IsStreaming);
        Assert.Contains("\"stream_options\":{\"include_usage\":true}", recorded.Body, StringComparison.Ordinal);
        Assert.NotNull(usage);
        Assert.Equal(3, usage.OutputTokenCount);
        Assert.Equal(1, usage.InputTokenCount);
    }

    [Fact]
    public void CompleteChatStreaming_OkStreamBehavior_SdkReadsEveryDelta()
    {
        using var server = StartSynchronously();
        server.Server.Enqueue(FakeBehavior.OkStream(["The", " quick", " brown", " fox"], TimeSpan.FromMilliseconds(2), includeUsage: true));
        var client = CreateClient(server.Server);

        var deltas = new List<string>();
        ChatTokenUsage? usage = null;
        foreach (var update in client.CompleteChatStreaming([new UserChatMessage("Hi")]))
        {
            deltas.AddRange(update.ContentUpdate.Select(part => part.Text));
            usage ??= update.Usage;
        }

        Assert.Equal(["The", " quick", " brown", " fox"], deltas.Where(d => d.Length > 0));
        Assert.Equal(4, usage?.OutputTokenCount);
    }

    [Fact]
    public async Task CompleteChat_ContextLengthExceeded_SdkThrowsClientResultExceptionWith400()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ContextLengthExceeded());
        var client = CreateClient(server);

        var exception = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("Hi")]));

        Assert.Equal(400, exception.Status);
        Assert.Contains("context_length_exceeded", exception.Message, StringComparison.Ordinal);
    }

    private static ChatClient CreateClient(FakeLlmServer server) =>
        new("fake-model", new ApiKeyCredential("k"), new OpenAIClientOptions
        {
            Endpoint = server.BaseAddress,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(10),
        });

    private static SyncServer StartSynchronously() => new(FakeLlmServer.StartAsync().GetAwaiter().GetResult());

    /// <summary>Lets the SDK's synchronous calls be tested from a synchronous test.</summary>
    private sealed class SyncServer(FakeLlmServer server) : IDisposable
    {
        public FakeLlmServer Server { get; } = server;

        public void Dispose() => Server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
