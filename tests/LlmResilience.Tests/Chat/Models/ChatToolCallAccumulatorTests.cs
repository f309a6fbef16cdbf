using System.Text;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatToolCallAccumulatorTests
{
    private const string Head = """{"id":"chatcmpl-C1","object":"chat.completion.chunk","created":1753187863,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_07871e2ad8","choices":""";
    private const string Tail = ""","usage":null,"obfuscation":"a1"}""";

    // Two parallel calls streamed as OpenAI does: each call opens with index, id, type, name and empty arguments, then only
    // index and pieces of the arguments follow. The pieces of the two calls are interleaved here, which servers may do.
    internal static readonly string[] ParallelToolCallChunks =
    [
        Head + """[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}]""" + Tail,
        Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"lo"}}]},"logprobs":null,"finish_reason":null}]""" + Tail,
        Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"cation\": \"Par"}}]},"logprobs":null,"finish_reason":null}]""" + Tail,
        Head + """[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Kh2kQ8aYvbwWcL2Y2wn3Wn0Q","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}]""" + Tail,
        Head + """[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":"}}]},"logprobs":null,"finish_reason":null}]""" + Tail,
        Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"is, France\"}"}}]},"logprobs":null,"finish_reason":null}]""" + Tail,
        Head + """[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":" \"Europe/Paris\"}"}}]},"logprobs":null,"finish_reason":null}]""" + Tail,
        Head + """[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]""" + Tail,
        Head + """[]""" + ""","usage":{"prompt_tokens":80,"completion_tokens":40,"total_tokens":120}}""",
    ];

    [Fact]
    public void Build_ParallelFragmentedCalls_AssemblesBoth()
    {
        var accumulator = new ChatToolCallAccumulator();

        foreach (var json in ParallelToolCallChunks)
        {
            accumulator.Append(Deserialize(json));
        }

        var calls = accumulator.Build();
        Assert.Equal(2, accumulator.Count);
        Assert.Equal(2, calls.Count);
        Assert.Equal(("call_DdmO9pD3xa9XTPNJ32zg2hcA", "function"), (calls[0].Id, calls[0].Type));
        Assert.Equal(("get_weather", """{"location": "Paris, France"}"""), (calls[0].FunctionCall.Name, calls[0].FunctionCall.Arguments));
        Assert.Equal(("call_Kh2kQ8aYvbwWcL2Y2wn3Wn0Q", "function"), (calls[1].Id, calls[1].Type));
        Assert.Equal(("get_time", """{"tz": "Europe/Paris"}"""), (calls[1].FunctionCall.Name, calls[1].FunctionCall.Arguments));
        using var arguments = JsonDocument.Parse(calls[0].FunctionCall.Arguments);
        Assert.Equal("Paris, France", arguments.RootElement.GetProperty("location").GetString());
    }

    [Fact]
    public void Build_CalledTwice_ReturnsEqualNewLists()
    {
        var accumulator = new ChatToolCallAccumulator();
        foreach (var json in ParallelToolCallChunks)
        {
            accumulator.Append(Deserialize(json));
        }

        var first = accumulator.Build();
        var second = accumulator.Build();

        Assert.NotSame(first, second);
        Assert.Equal(first[1].FunctionCall.Arguments, second[1].FunctionCall.Arguments);
    }

    [Fact]
    public void Build_NoToolCalls_ReturnsEmpty()
    {
        var accumulator = new ChatToolCallAccumulator();
        accumulator.Append(Deserialize(ChatCompletionChunkTests.RoleChunk));
        accumulator.Append(Deserialize(ChatCompletionChunkTests.ContentChunk));
        accumulator.Append(Deserialize(ChatCompletionChunkTests.UsageChunk));

        Assert.Empty(accumulator.Build());
        Assert.Equal(0, accumulator.Count);
    }

    [Fact]
    public void Build_WholeCallsUnderOneIndex_KeepsThemApart()
    {
        // Some OpenAI-compatible servers (Gemini's, for one) send every call whole under index 0.
        var accumulator = new ChatToolCallAccumulator();
        accumulator.Append(Deserialize(Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]}}]""" + Tail));
        accumulator.Append(Deserialize(Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","type":"function","function":{"name":"g","arguments":"{}"}}]}}]""" + Tail));

        var calls = accumulator.Build();

        Assert.Equal(2, calls.Count);
        Assert.Equal(("a", "f", """{"x":1}"""), (calls[0].Id, calls[0].FunctionCall.Name, calls[0].FunctionCall.Arguments));
        Assert.Equal(("b", "g", "{}"), (calls[1].Id, calls[1].FunctionCall.Name, calls[1].FunctionCall.Arguments));
    }

    [Fact]
    public void Append_RepeatedName_DoesNotConcatenateIt()
    {
        var accumulator = new ChatToolCallAccumulator();
        accumulator.Append(Deserialize(Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]}}]""" + Tail));
        accumulator.Append(Deserialize(Head + """[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"}"}}]}}]""" + Tail));

        var call = Assert.Single(accumulator.Build());

        Assert.Equal(("a", "function", "f", "{}"), (call.Id, call.Type, call.FunctionCall.Name, call.FunctionCall.Arguments));
    }

    [Fact]
    public void Append_OtherChoice_IsIgnoredUnlessChosen()
    {
        var chunk = Deserialize(Head + """[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}}]""" + Tail);
        var first = new ChatToolCallAccumulator();
        var second = new ChatToolCallAccumulator(choiceIndex: 1);

        first.Append(chunk);
        second.Append(chunk);

        Assert.Empty(first.Build());
        Assert.Equal("c1", Assert.Single(second.Build()).Id);
    }

    [Fact]
    public void Append_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>("chunk", () => new ChatToolCallAccumulator().Append(null!));
        Assert.Throws<ArgumentOutOfRangeException>("choiceIndex", () => new ChatToolCallAccumulator(-1));
    }

    private static ChatCompletionChunk Deserialize(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json).AsSpan(), LlmJsonContext.Default.ChatCompletionChunk)!;
}
