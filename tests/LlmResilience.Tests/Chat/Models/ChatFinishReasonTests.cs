using System.Text;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatFinishReasonTests
{
    [Fact]
    public void NamedReasons_Value_IsTheWireName()
    {
        Assert.Equal("stop", ChatFinishReason.Stop.Value);
        Assert.Equal("length", ChatFinishReason.Length.Value);
        Assert.Equal("tool_calls", ChatFinishReason.ToolCalls.Value);
        Assert.Equal("content_filter", ChatFinishReason.ContentFilter.Value);
        Assert.Equal("function_call", ChatFinishReason.FunctionCall.Value);
        Assert.Equal("tool_calls", ChatFinishReason.ToolCalls.ToString());
    }

    [Fact]
    public void Equals_DifferentCase_IsEqual()
    {
        var upper = new ChatFinishReason("STOP");

        Assert.True(upper == ChatFinishReason.Stop);
        Assert.False(upper != ChatFinishReason.Stop);
        Assert.True(upper.Equals((object)ChatFinishReason.Stop));
        Assert.False(upper.Equals((object)"stop"));
        Assert.Equal(ChatFinishReason.Stop.GetHashCode(), upper.GetHashCode());
        Assert.NotEqual(ChatFinishReason.Stop, ChatFinishReason.Length);
        Assert.Equal(new ChatFinishReason("end_turn"), new ChatFinishReason("end_turn"));
    }

    [Fact]
    public void Default_Value_IsEmpty()
    {
        Assert.Equal(string.Empty, default(ChatFinishReason).Value);
        Assert.Equal(string.Empty, default(ChatFinishReason).ToString());
        Assert.NotEqual(ChatFinishReason.Stop, default);
    }

    [Fact]
    public void Constructor_NullOrBlank_Throws()
    {
        Assert.Throws<ArgumentNullException>("value", () => new ChatFinishReason(null!));
        Assert.Throws<ArgumentException>("value", () => new ChatFinishReason(""));
        Assert.Throws<ArgumentException>("value", () => new ChatFinishReason(" "));
    }

    [Theory]
    [InlineData("stop")]
    [InlineData("length")]
    [InlineData("tool_calls")]
    [InlineData("content_filter")]
    [InlineData("function_call")]
    public void RoundTrip_NamedReason_ReadsTheSharedValue(string wire)
    {
        var json = "\"" + wire + "\"";

        var reason = JsonSerializer.Deserialize(json, LlmJsonContext.Default.ChatFinishReason);

        Assert.Equal(wire, reason.Value);
        Assert.Same(NamedReason(wire).Value, reason.Value);
        Assert.Equal(json, JsonSerializer.Serialize(reason, LlmJsonContext.Default.ChatFinishReason));
    }

    [Theory]
    [InlineData("end_turn")]
    [InlineData("eos")]
    [InlineData("STOP")]
    public void RoundTrip_UnknownReason_KeepsItAsSent(string wire)
    {
        var json = "\"" + wire + "\"";

        var reason = JsonSerializer.Deserialize(json, LlmJsonContext.Default.ChatFinishReason);

        Assert.Equal(wire, reason.Value);
        Assert.Equal(json, JsonSerializer.Serialize(reason, LlmJsonContext.Default.ChatFinishReason));
    }

    [Fact]
    public void Deserialize_EscapedNamedReason_IsTheNamedReason()
    {
        var reason = JsonSerializer.Deserialize("\"\\u0073top\"", LlmJsonContext.Default.ChatFinishReason);

        Assert.Same(ChatFinishReason.Stop.Value, reason.Value);
    }

    [Fact]
    public void Deserialize_EmptyOrNotAString_Throws()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("\"\"", LlmJsonContext.Default.ChatFinishReason));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("1", LlmJsonContext.Default.ChatFinishReason));
    }

    [Fact]
    public void Completion_FinishReason_IsTheNamedReason()
    {
        var completion = JsonSerializer.Deserialize(
            Encoding.UTF8.GetBytes("""{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]}"""),
            LlmJsonContext.Default.ChatCompletion)!;

        Assert.True(completion.FinishReason == ChatFinishReason.Stop);
        Assert.Equal(ChatFinishReason.Stop, completion.Choices[0].FinishReason);
        Assert.Equal(ChatRole.Assistant, completion.Choices[0].Message.Role);
    }

    [Fact]
    public void Choice_MissingNullOrEmptyReason_IsNull()
    {
        // Some OpenAI-compatible servers send "finish_reason":"" on the chunks before the last; that is no reason yet.
        var chunk = JsonSerializer.Deserialize(
            Encoding.UTF8.GetBytes("""{"choices":[{"index":0,"delta":{"role":""}},{"index":1,"finish_reason":null},{"index":2,"finish_reason":""},{"index":3,"finish_reason":"end_turn"}]}"""),
            LlmJsonContext.Default.ChatCompletionChunk)!;

        Assert.Null(chunk.FinishReason);
        Assert.Null(chunk.Choices[0].Delta.Role);
        Assert.Null(chunk.Choices[1].FinishReason);
        Assert.Null(chunk.Choices[2].FinishReason);
        Assert.Equal(new ChatFinishReason("end_turn"), chunk.Choices[3].FinishReason);
    }

    [Fact]
    public void Choice_ObjectInitializer_TakesANamedReason()
    {
        var choice = new ChatChoice { FinishReason = ChatFinishReason.Length };

        Assert.Equal(ChatFinishReason.Length, choice.FinishReason);
        Assert.Contains(
            "\"finish_reason\":\"length\"",
            JsonSerializer.Serialize(new ChatCompletion { Choices = [choice] }, LlmJsonContext.Default.ChatCompletion),
            StringComparison.Ordinal);
    }

    private static ChatFinishReason NamedReason(string wire) => wire switch
    {
        "stop" => ChatFinishReason.Stop,
        "length" => ChatFinishReason.Length,
        "tool_calls" => ChatFinishReason.ToolCalls,
        "content_filter" => ChatFinishReason.ContentFilter,
        _ => ChatFinishReason.FunctionCall,
    };
}
