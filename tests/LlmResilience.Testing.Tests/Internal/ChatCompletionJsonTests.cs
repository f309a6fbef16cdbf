using System.Text;

namespace LlmResilience.Testing.Tests;

public sealed class ChatCompletionJsonTests
{
    private static readonly CompletionIdentity Identity = new("chatcmpl-abc", 1715601600, "fake-model");

    [Fact]
    public void Completion_Content_IsTheApiShapeFieldForField()
    {
        var json = Encoding.UTF8.GetString(ChatCompletionJson.Completion(Identity, "Hi \"there\" é", new TokenUsage(5, 3)));

        Assert.Equal(
            """{"id":"chatcmpl-abc","object":"chat.completion","created":1715601600,"model":"fake-model","system_fingerprint":"fp_fake","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"there\" é","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}""",
            json);
    }

    [Fact]
    public void Chunk_RoleFinishAndUsage_AreTheApiShape()
    {
        Assert.Equal(
            """{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1715601600,"model":"fake-model","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}""",
            Encoding.UTF8.GetString(ChatCompletionJson.Chunk(Identity, "assistant", string.Empty, null, usageNull: false)));
        Assert.Equal(
            """{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1715601600,"model":"fake-model","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}""",
            Encoding.UTF8.GetString(ChatCompletionJson.Chunk(Identity, null, null, "stop", usageNull: true)));
        Assert.StartsWith(
            """{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1715601600,"model":"fake-model","system_fingerprint":"fp_fake","choices":[],"usage":{"prompt_tokens":1,""",
            Encoding.UTF8.GetString(ChatCompletionJson.UsageChunk(Identity, new TokenUsage(1, 2))),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Error_NullParamAndCode_WritesNulls()
    {
        Assert.Equal(
            """{"error":{"message":"m","type":"server_error","param":null,"code":null}}""",
            Encoding.UTF8.GetString(ChatCompletionJson.Error("m", "server_error", null, null)));
    }
}
