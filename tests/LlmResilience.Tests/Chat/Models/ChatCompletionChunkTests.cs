using System.Text;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatCompletionChunkTests
{
    // The data of OpenAI's server-sent events for one streamed answer with stream_options.include_usage, as sent in 2025:
    // the role chunk, content chunks, the finish chunk and the usage chunk; "obfuscation" and "logprobs" are not modelled.
    internal const string RoleChunk =
        """{"id":"chatcmpl-BwXo3KXcV0FNbkGrJmlnEJ1y9kCiA","object":"chat.completion.chunk","created":1753187863,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_34a54ae93c","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Yjb1K"}""";

    internal const string ContentChunk =
        """{"id":"chatcmpl-BwXo3KXcV0FNbkGrJmlnEJ1y9kCiA","object":"chat.completion.chunk","created":1753187863,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_34a54ae93c","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"9xQ"}""";

    internal const string FinishChunk =
        """{"id":"chatcmpl-BwXo3KXcV0FNbkGrJmlnEJ1y9kCiA","object":"chat.completion.chunk","created":1753187863,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_34a54ae93c","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null,"obfuscation":"kR"}""";

    internal const string UsageChunk =
        """{"id":"chatcmpl-BwXo3KXcV0FNbkGrJmlnEJ1y9kCiA","object":"chat.completion.chunk","created":1753187863,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_34a54ae93c","choices":[],"usage":{"prompt_tokens":13,"completion_tokens":9,"total_tokens":22,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"Qo3"}""";

    [Fact]
    public void Deserialize_RoleChunk_ReadsEveryField()
    {
        var chunk = Deserialize(RoleChunk);

        Assert.Equal("chatcmpl-BwXo3KXcV0FNbkGrJmlnEJ1y9kCiA", chunk.Id);
        Assert.Equal("chat.completion.chunk", chunk.Object);
        Assert.Equal(1753187863L, chunk.Created);
        Assert.Equal("gpt-4o-mini-2024-07-18", chunk.Model);
        Assert.Equal("default", chunk.ServiceTier);
        Assert.Equal("fp_34a54ae93c", chunk.SystemFingerprint);
        Assert.Null(chunk.Usage);
        var choice = Assert.Single(chunk.Choices);
        Assert.Equal(0, choice.Index);
        Assert.Null(choice.FinishReason);
        Assert.Equal(ChatRole.Assistant, choice.Delta.Role);
        Assert.Equal(string.Empty, choice.Delta.Content);
        Assert.Null(choice.Delta.Refusal);
        Assert.Null(choice.Delta.ToolCalls);
        Assert.Equal(string.Empty, chunk.ContentDelta);
        Assert.Null(chunk.FinishReason);
    }

    [Fact]
    public void Deserialize_ContentChunk_ReadsContentDelta()
    {
        var chunk = Deserialize(ContentChunk);

        Assert.Equal("Hello", chunk.ContentDelta);
        Assert.Null(chunk.Choices[0].Delta.Role);
        Assert.Null(chunk.FinishReason);
    }

    [Fact]
    public void Deserialize_FinishChunk_ReadsFinishReasonAndEmptyDelta()
    {
        var chunk = Deserialize(FinishChunk);

        Assert.Equal(ChatFinishReason.Stop, chunk.FinishReason);
        Assert.Null(chunk.ContentDelta);
        Assert.Null(chunk.Choices[0].Delta.Content);
    }

    [Fact]
    public void Deserialize_UsageChunk_ReadsUsageWithoutChoices()
    {
        var chunk = Deserialize(UsageChunk);

        Assert.Empty(chunk.Choices);
        Assert.Null(chunk.ContentDelta);
        Assert.Null(chunk.FinishReason);
        Assert.Equal((13, 9, 22), (chunk.Usage!.PromptTokens, chunk.Usage.CompletionTokens, chunk.Usage.TotalTokens));
        Assert.Equal(0, chunk.Usage.PromptTokensDetails!.CachedTokens);
        Assert.Equal(0, chunk.Usage.CompletionTokensDetails!.ReasoningTokens);
    }

    [Fact]
    public void Deserialize_ToolCallChunks_ReadsFragments()
    {
        var first = Deserialize(ChatToolCallAccumulatorTests.ParallelToolCallChunks[0]);
        var fragment = Deserialize(ChatToolCallAccumulatorTests.ParallelToolCallChunks[1]);

        var opening = Assert.Single(first.Choices[0].Delta.ToolCalls!);
        Assert.Equal((0, "call_DdmO9pD3xa9XTPNJ32zg2hcA", "function"), (opening.Index, opening.Id, opening.Type));
        Assert.Equal(("get_weather", string.Empty), (opening.FunctionCall!.Name, opening.FunctionCall.Arguments));
        Assert.Null(first.Choices[0].Delta.Content);
        var piece = Assert.Single(fragment.Choices[0].Delta.ToolCalls!);
        Assert.Equal(0, piece.Index);
        Assert.Null(piece.Id);
        Assert.Null(piece.Type);
        Assert.Null(piece.FunctionCall!.Name);
        Assert.Equal("{\"lo", piece.FunctionCall.Arguments);
    }

    [Fact]
    public void Deserialize_AzureFilterChunkAndMissingFields_ReadsEmpty()
    {
        var azure = Deserialize("""{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}""");
        var sparse = Deserialize("""{"choices":[{"index":0,"finish_reason":"stop","content_filter_results":{}}],"choices_extra":null}""");
        var nulls = Deserialize("""{"id":null,"choices":null,"usage":null}""");

        Assert.Empty(azure.Choices);
        Assert.Null(azure.ContentDelta);
        Assert.Equal(ChatFinishReason.Stop, sparse.FinishReason);
        Assert.Null(sparse.Choices[0].Delta.Content);
        Assert.Equal(string.Empty, nulls.Id);
        Assert.Empty(nulls.Choices);
    }

    [Fact]
    public void Deserialize_NullCreatedAndIndexes_ReadsZero()
    {
        var chunk = Deserialize("""{"created":null,"choices":[{"index":null,"delta":{"tool_calls":[{"index":null,"function":{"arguments":"{}"}}]}}]}""");

        Assert.Equal(0L, chunk.Created);
        Assert.Equal(0, chunk.Choices[0].Index);
        Assert.Equal(0, chunk.Choices[0].Delta.ToolCalls![0].Index);
    }

    [Fact]
    public void Deserialize_ReasoningContentDelta_ReadsIt()
    {
        var chunk = Deserialize("""{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Let me think"}}]}""");

        Assert.Equal("Let me think", chunk.Choices[0].Delta.ReasoningContent);
        Assert.Null(chunk.ContentDelta);
    }

    [Fact]
    public void Deserialize_StreamOfChunks_ConcatenatesToTheAnswer()
    {
        var text = new StringBuilder();
        ChatFinishReason? finishReason = null;
        ChatUsage? usage = null;
        foreach (var json in new[] { RoleChunk, ContentChunk, ContentChunk.Replace("\"Hello\"", "\" world\"", StringComparison.Ordinal), FinishChunk, UsageChunk })
        {
            var chunk = Deserialize(json);
            text.Append(chunk.ContentDelta);
            finishReason ??= chunk.FinishReason;
            usage ??= chunk.Usage;
        }

        Assert.Equal("Hello world", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finishReason);
        Assert.Equal(22, usage!.TotalTokens);
    }

    private static ChatCompletionChunk Deserialize(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json).AsSpan(), LlmJsonContext.Default.ChatCompletionChunk)!;
}
