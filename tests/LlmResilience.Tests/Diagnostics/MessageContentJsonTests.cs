using LlmResilience.Chat;

namespace LlmResilience.Tests.Diagnostics;

public sealed class MessageContentJsonTests
{
    [Fact]
    public void Input_ToolCallsResultsAndImages_AsTheConventionsParts()
    {
        IList<ChatMessage> messages =
        [
            ChatMessage.User(ChatContentPart.Text("What is this?"), ChatContentPart.ImageUrl("https://example.com/cat.png"), ChatContentPart.ImageUrl("data:image/png;base64,AAAA")),
            ChatMessage.Assistant([ChatToolCall.Function("call_1", "get_weather", """{"city":"Paris"}"""), ChatToolCall.Function("call_2", "broken", "{not json")]),
            ChatMessage.Tool("call_1", "rainy"),
        ];

        var json = MessageContentJson.Input(messages);

        Assert.Equal(
            """[{"role":"user","parts":[{"type":"text","content":"What is this?"},{"type":"uri","modality":"image","uri":"https://example.com/cat.png"},{"type":"blob","modality":"image"}]},"""
            + """{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_weather","arguments":{"city":"Paris"}},{"type":"tool_call","id":"call_2","name":"broken","arguments":"{not json"}]},"""
            + """{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"rainy"}]}]""",
            json);
        Assert.DoesNotContain("AAAA", json, StringComparison.Ordinal);
    }
}
