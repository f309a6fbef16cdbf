using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatToolCallTests
{
    [Fact]
    public void Function_Arguments_CreatesFunctionCall()
    {
        var call = ChatToolCall.Function("call_1", "get_weather", """{"city":"Paris"}""");

        Assert.Equal(("call_1", "function"), (call.Id, call.Type));
        Assert.Equal(("get_weather", """{"city":"Paris"}"""), (call.FunctionCall.Name, call.FunctionCall.Arguments));
    }

    [Fact]
    public void Function_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>("id", () => ChatToolCall.Function(null!, "f", "{}"));
        Assert.Throws<ArgumentNullException>("name", () => ChatToolCall.Function("call_1", null!, "{}"));
        Assert.Throws<ArgumentNullException>("argumentsJson", () => ChatToolCall.Function("call_1", "f", null!));
        Assert.Throws<ArgumentException>("id", () => ChatToolCall.Function("", "f", "{}"));
    }

    [Fact]
    public void Deserialize_MissingOrNullFields_ReadsEmpty()
    {
        var call = JsonSerializer.Deserialize("""{"id":null,"function":{"name":"f","arguments":null}}""", LlmJsonContext.Default.ChatToolCall)!;

        Assert.Equal(string.Empty, call.Id);
        Assert.Equal("function", call.Type);
        Assert.Equal(("f", string.Empty), (call.FunctionCall.Name, call.FunctionCall.Arguments));
    }

    [Fact]
    public void Serialize_Call_WritesWireShape()
    {
        var json = JsonSerializer.Serialize(ChatToolCall.Function("call_1", "f", "{}"), LlmJsonContext.Default.ChatToolCall);

        Assert.Equal("""{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}""", json);
    }

    [Fact]
    public void Serialize_CallWithoutTypeOrArguments_WritesTheDefaults()
    {
        var call = new ChatToolCall { Id = "call_1", FunctionCall = new ChatFunctionCall { Name = "now" } };

        var json = JsonSerializer.Serialize(call, LlmJsonContext.Default.ChatToolCall);

        Assert.Equal("""{"id":"call_1","type":"function","function":{"name":"now","arguments":""}}""", json);
    }
}
