using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatMessageTests
{
    [Fact]
    public void Factories_Text_SetRoleAndContent()
    {
        Assert.Equal((ChatRole.System, "s"), (ChatMessage.System("s").Role, ChatMessage.System("s").Content));
        Assert.Equal((ChatRole.Developer, "d"), (ChatMessage.Developer("d").Role, ChatMessage.Developer("d").Content));
        Assert.Equal((ChatRole.User, "u"), (ChatMessage.User("u").Role, ChatMessage.User("u").Content));
        Assert.Equal((ChatRole.Assistant, "a"), (ChatMessage.Assistant("a").Role, ChatMessage.Assistant("a").Content));
    }

    [Fact]
    public void Tool_IdAndContent_SetsToolCallId()
    {
        var message = ChatMessage.Tool("call_1", "42");

        Assert.Equal(ChatRole.Tool, message.Role);
        Assert.Equal("call_1", message.ToolCallId);
        Assert.Equal("42", message.Content);
    }

    [Fact]
    public void UserParts_Parts_SetsContentPartsOnly()
    {
        var message = ChatMessage.User(ChatContentPart.Text("Look"), ChatContentPart.ImageUrl("https://example.com/a.png"));

        Assert.Null(message.Content);
        Assert.Equal(2, message.ContentParts!.Count);
        Assert.Equal("Look", message.ContentParts[0].TextContent);
    }

    [Fact]
    public void AssistantToolCalls_Calls_CopiesThemWithoutContent()
    {
        var calls = new List<ChatToolCall> { ChatToolCall.Function("call_1", "f", "{}") };

        var message = ChatMessage.Assistant(calls);
        calls.Clear();

        Assert.Equal(ChatRole.Assistant, message.Role);
        Assert.Null(message.Content);
        Assert.Single(message.ToolCalls!);
    }

    [Fact]
    public void Factories_Null_ThrowArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>("content", () => ChatMessage.System(null!));
        Assert.Throws<ArgumentNullException>("content", () => ChatMessage.Developer(null!));
        Assert.Throws<ArgumentNullException>("content", () => ChatMessage.User((string)null!));
        Assert.Throws<ArgumentNullException>("parts", () => ChatMessage.User((ChatContentPart[])null!));
        Assert.Throws<ArgumentNullException>("content", () => ChatMessage.Assistant((string)null!));
        Assert.Throws<ArgumentNullException>("toolCalls", () => ChatMessage.Assistant((IEnumerable<ChatToolCall>)null!));
        Assert.Throws<ArgumentNullException>("toolCallId", () => ChatMessage.Tool(null!, "x"));
        Assert.Throws<ArgumentNullException>("content", () => ChatMessage.Tool("call_1", null!));
    }

    [Fact]
    public void Factories_EmptyOrNullItems_ThrowArgumentException()
    {
        Assert.Throws<ArgumentException>("parts", () => ChatMessage.User([]));
        Assert.Throws<ArgumentException>("parts", () => ChatMessage.User(ChatContentPart.Text("a"), null!));
        Assert.Throws<ArgumentException>("toolCalls", () => ChatMessage.Assistant(Array.Empty<ChatToolCall>()));
        Assert.Throws<ArgumentException>("toolCalls", () => ChatMessage.Assistant(new ChatToolCall[] { null! }));
        Assert.Throws<ArgumentException>("toolCallId", () => ChatMessage.Tool(" ", "x"));
        Assert.Throws<ArgumentException>("role", () => new ChatMessage(default(ChatRole)));
    }

    [Fact]
    public void Serialize_Text_WritesContentString()
    {
        var json = Serialize(ChatMessage.User("Hi"));

        Assert.Equal("""{"role":"user","content":"Hi"}""", json);
    }

    [Fact]
    public void Serialize_Parts_WritesContentArray()
    {
        var json = Serialize(ChatMessage.User(ChatContentPart.Text("Look"), ChatContentPart.ImageUrl("https://example.com/a.png", "high")));

        Assert.Equal(
            """{"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"high"}}]}""",
            json);
    }

    [Fact]
    public void Serialize_BothContentForms_WritesParts()
    {
        var message = new ChatMessage(ChatRole.User, "ignored") { ContentParts = [ChatContentPart.Text("kept")] };

        Assert.Equal("""{"role":"user","content":[{"type":"text","text":"kept"}]}""", Serialize(message));
    }

    [Fact]
    public void Serialize_AssistantWithEmptyToolCalls_LeavesToolCallsOut()
    {
        var message = new ChatMessage(ChatRole.Assistant) { ToolCalls = [] };

        Assert.Equal("""{"role":"assistant","content":null}""", Serialize(message));
    }

    [Fact]
    public void Serialize_UserWithoutContent_LeavesContentOut()
    {
        Assert.Equal("""{"role":"user"}""", Serialize(new ChatMessage(ChatRole.User)));
    }

    [Fact]
    public void Serialize_AllFields_WritesThemInWireOrder()
    {
        var message = new ChatMessage(ChatRole.Assistant, "partial")
        {
            Name = "bot",
            Refusal = "No.",
            ToolCalls = [ChatToolCall.Function("call_1", "f", "{}")],
        };

        Assert.Equal(
            """{"role":"assistant","content":"partial","name":"bot","refusal":"No.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}""",
            Serialize(message));
    }

    [Fact]
    public void Deserialize_ContentStringArrayAndNull_ReadsEachForm()
    {
        var text = Deserialize("""{"role":"user","content":"Hi","extra":{"a":[1,2]}}""");
        var parts = Deserialize("""{"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"https://x/a.png","detail":"low","x":1}}]}""");
        var toolCall = Deserialize("""{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}],"refusal":null}""");
        var tool = Deserialize("""{"role":"tool","tool_call_id":"call_1","content":"42","name":"f"}""");

        Assert.Equal((ChatRole.User, "Hi"), (text.Role, text.Content));
        Assert.Null(parts.Content);
        Assert.Equal("Look", parts.ContentParts![0].TextContent);
        Assert.Equal(("https://x/a.png", "low"), (parts.ContentParts[1].Url, parts.ContentParts[1].Detail));
        Assert.Null(toolCall.Content);
        Assert.Null(toolCall.Refusal);
        Assert.Equal("call_1", toolCall.ToolCalls![0].Id);
        Assert.Equal(("call_1", "42", "f"), (tool.ToolCallId, tool.Content, tool.Name));
    }

    [Fact]
    public void Deserialize_NoRole_Throws()
    {
        Assert.Throws<JsonException>(() => Deserialize("""{"content":"Hi"}"""));
    }

    [Fact]
    public void Deserialize_ContentNumber_Throws()
    {
        Assert.Throws<JsonException>(() => Deserialize("""{"role":"user","content":5}"""));
    }

    private static string Serialize(ChatMessage message) => JsonSerializer.Serialize(message, LlmJsonContext.Default.ChatMessage);

    private static ChatMessage Deserialize(string json) => JsonSerializer.Deserialize(json, LlmJsonContext.Default.ChatMessage)!;
}
