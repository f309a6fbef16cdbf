using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Chat;

/// <summary>Answers shaped null where the OpenAI schema requires an object, served over a real socket.</summary>
public sealed class ResponseShapeTests
{
    private const string Head = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\"";
    private const string ChunkHead = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\"";

    [Theory]
    [InlineData("""{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m"}""", "choices")]
    [InlineData(Head + ""","choices":null}""", "choices")]
    [InlineData(Head + ""","choices":[null]}""", "choices[0]")]
    [InlineData(Head + ""","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"},null]}""", "choices[1]")]
    [InlineData(Head + ""","choices":[{"index":0,"message":null,"finish_reason":"stop"}]}""", "choices[0].message")]
    [InlineData(Head + ""","choices":[{"index":0,"finish_reason":"stop"}]}""", "choices[0].message")]
    [InlineData(Head + ""","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[null]},"finish_reason":"tool_calls"}]}""", "choices[0].message.tool_calls[0]")]
    [InlineData(Head + ""","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":null}]},"finish_reason":"tool_calls"}]}""", "choices[0].message.tool_calls[0].function")]
    [InlineData(Head + ""","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"c","type":"function"}]},"finish_reason":"tool_calls"}]}""", "choices[0].message.tool_calls[0].function")]
    public async Task CompleteAsync_RequiredObjectNullOrMissing_IsInvalidResponseNamingTheField(string body, string field)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(200, body));
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
        Assert.Contains(field + " is ", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("req_", error.RequestId, StringComparison.Ordinal);
        Assert.Contains(error.RequestId!, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Attempts);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task CompleteAsync_LegitimateOptionalShapes_Succeed()
    {
        await using var server = await FakeLlmServer.StartAsync();
        // content null beside tool calls, no usage, no system_fingerprint: all legitimate.
        server.Enqueue(FakeBehavior.Status(200, Head + ""","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"""));
        server.Enqueue(FakeBehavior.Status(200, Head + ""","choices":[]}"""));
        using var client = TestClients.Chat(server);

        var withTools = await client.CompleteAsync(TestClients.Hello());
        var empty = await client.CompleteAsync(TestClients.Hello());

        Assert.Null(withTools.Content);
        Assert.Null(withTools.Usage);
        Assert.Null(withTools.SystemFingerprint);
        Assert.Equal("f", Assert.Single(withTools.Choices[0].Message.ToolCalls!).FunctionCall.Name);
        Assert.Empty(empty.Choices);
        Assert.Null(empty.Content);
    }

    [Theory]
    [InlineData(ChunkHead + ""","choices":[null]}""", "choices[0]")]
    [InlineData(ChunkHead + ""","choices":[{"index":0,"delta":null,"finish_reason":null}]}""", "choices[0].delta")]
    [InlineData(ChunkHead + ""","choices":null}""", "choices")]
    [InlineData(ChunkHead + ""","model":"m"}""", "choices")]
    [InlineData(ChunkHead + ""","choices":[{"index":0,"delta":{"tool_calls":[null]},"finish_reason":null}]}""", "choices[0].delta.tool_calls[0]")]
    public async Task StreamAsync_RequiredObjectNullInAChunk_IsInvalidResponseNamingTheField(string badChunk, string field)
    {
        await using var server = await FakeLlmServer.StartAsync();
        var first = ChunkHead + ""","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}""";
        server.Enqueue(FakeBehavior.Status(200, $"data: {first}\n\ndata: {badChunk}\n\ndata: [DONE]\n\n", contentType: "text/event-stream"));
        using var client = TestClients.Chat(server);
        var received = new List<string?>();

        var error = await Assert.ThrowsAsync<LlmException>(async () =>
        {
            await foreach (var chunk in client.StreamAsync(TestClients.Hello()))
            {
                received.Add(chunk.ContentDelta);
            }
        });

        Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
        Assert.Contains(field + " is ", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("req_", error.RequestId, StringComparison.Ordinal);
        Assert.Equal("Hel", error.PartialContent);
        Assert.Equal(["Hel"], received);
    }

    [Fact]
    public async Task StreamAsync_UsageOnlyAndFilterChunks_AreAccepted()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var events = new[]
        {
            // Azure's prompt-filter chunk: empty choices.
            ChunkHead + ""","choices":[],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}""",
            ChunkHead + ""","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}""",
            // Azure's content-filter chunk: a choice without delta.
            ChunkHead + ""","choices":[{"index":0,"finish_reason":null,"content_filter_results":{"hate":{"filtered":false}}}]}""",
            ChunkHead + ""","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            // Usage-only chunks: OpenAI's empty choices, and a compatible server's missing or null choices.
            ChunkHead + ""","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""",
            ChunkHead + ""","usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""",
            ChunkHead + ""","choices":null,"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""",
        };
        server.Enqueue(FakeBehavior.Status(200, string.Concat(events.Select(e => $"data: {e}\n\n")) + "data: [DONE]\n\n", contentType: "text/event-stream"));
        using var client = TestClients.Chat(server);

        var chunks = new List<ChatCompletionChunk>();
        await foreach (var chunk in client.StreamAsync(TestClients.Hello()))
        {
            chunks.Add(chunk);
        }

        Assert.Equal(7, chunks.Count);
        Assert.Equal("Hi", string.Concat(chunks.Select(c => c.ContentDelta)));
        Assert.Null(chunks[2].Choices[0].Delta.Content);
        Assert.Equal(ChatFinishReason.Stop, chunks[3].FinishReason);
        Assert.All(chunks.Skip(4), c => Assert.Equal(2, c.Usage!.TotalTokens));
    }
}
