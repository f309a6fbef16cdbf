using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatResponseMessageTests
{
    [Fact]
    public void ToChatMessage_ToolCalls_ReplaysThemAsAssistantMessage()
    {
        var message = new ChatResponseMessage { ToolCalls = [ChatToolCall.Function("call_1", "f", "{}")] };

        var replay = message.ToChatMessage();

        Assert.Equal(ChatRole.Assistant, replay.Role);
        Assert.Null(replay.Content);
        Assert.Equal("call_1", Assert.Single(replay.ToolCalls!).Id);
        Assert.Equal(
            """{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}""",
            JsonSerializer.Serialize(replay, LlmJsonContext.Default.ChatMessage));
    }

    [Fact]
    public void ToChatMessage_TextAndRefusal_CopiesThem()
    {
        var message = new ChatResponseMessage { Content = "Hi", Refusal = "No" };

        var replay = message.ToChatMessage();

        Assert.Equal(("Hi", "No"), (replay.Content, replay.Refusal));
        Assert.Null(replay.ToolCalls);
    }

    [Fact]
    public void Role_Missing_IsAssistant()
    {
        Assert.Equal(ChatRole.Assistant, new ChatResponseMessage().Role);
    }

    [Fact]
    public void Role_FromJson_IsAChatRole()
    {
        var completion = JsonSerializer.Deserialize(
            """{"choices":[{"message":{"role":"assistant"}},{"message":{"role":""}},{"message":{"role":"critic","content":"Hm."}}]}""",
            LlmJsonContext.Default.ChatCompletion)!;

        Assert.Equal(ChatRole.Assistant, completion.Choices[0].Message.Role);
        Assert.Same(ChatRole.Assistant.Value, completion.Choices[0].Message.Role.Value);
        Assert.Equal(ChatRole.Assistant, completion.Choices[1].Message.Role);
        Assert.Equal(new ChatRole("critic"), completion.Choices[2].Message.Role);
        Assert.Equal(new ChatRole("critic"), completion.Choices[2].Message.ToChatMessage().Role);
    }
}
