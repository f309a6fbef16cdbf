using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatToolChoiceTests
{
    [Fact]
    public void NamedChoices_Type_IsTheWireName()
    {
        Assert.Equal("auto", ChatToolChoice.Auto.Type);
        Assert.Equal("none", ChatToolChoice.None.Type);
        Assert.Equal("required", ChatToolChoice.Required.Type);
        Assert.Null(ChatToolChoice.Auto.FunctionName);
    }

    [Fact]
    public void Function_Name_CreatesFunctionChoice()
    {
        var choice = ChatToolChoice.Function("get_weather");

        Assert.Equal(("function", "get_weather"), (choice.Type, choice.FunctionName));
        Assert.Equal("function:get_weather", choice.ToString());
    }

    [Fact]
    public void Function_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>("name", () => ChatToolChoice.Function(null!));
        Assert.Throws<ArgumentException>("name", () => ChatToolChoice.Function(" "));
    }

    [Fact]
    public void Deserialize_EachForm_ReadsChoice()
    {
        static ChatToolChoice? Read(string toolChoice) =>
            JsonSerializer.Deserialize("{\"tool_choice\":" + toolChoice + "}", LlmJsonContext.Default.ChatCompletionRequest)!.ToolChoice;

        Assert.Same(ChatToolChoice.Auto, Read("\"auto\""));
        Assert.Same(ChatToolChoice.None, Read("\"none\""));
        Assert.Same(ChatToolChoice.Required, Read("\"required\""));
        var function = Read("""{"type":"function","function":{"name":"f","x":1},"y":[1]}""")!;
        Assert.Equal(("function", "f"), (function.Type, function.FunctionName));
        Assert.Null(Read("null"));
        Assert.Throws<JsonException>(() => Read("5"));
    }
}
