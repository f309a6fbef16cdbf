using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatToolTests
{
    [Fact]
    public void Function_AllArguments_CreatesFunctionTool()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{}}""");

        var tool = ChatTool.Function("lookup", "Looks things up.", schema.RootElement, strict: true);

        Assert.Equal("function", tool.Type);
        Assert.Equal("lookup", tool.FunctionDefinition!.Name);
        Assert.Equal("Looks things up.", tool.FunctionDefinition.Description);
        Assert.Equal(JsonValueKind.Object, tool.FunctionDefinition.Parameters!.Value.ValueKind);
        Assert.True(tool.FunctionDefinition.Strict);
    }

    [Fact]
    public void Function_SchemaOfDisposedDocument_StillWrites()
    {
        ChatTool tool;
        using (var schema = JsonDocument.Parse("""{"type":"object"}"""))
        {
            tool = ChatTool.Function("f", parameters: schema.RootElement);
        }

        var json = JsonSerializer.Serialize(new ChatCompletionRequest { Tools = [tool] }, LlmJsonContext.Default.ChatCompletionRequest);

        Assert.Equal("""{"messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}""", json);
    }

    [Fact]
    public void Function_NameOnly_WritesNameOnly()
    {
        var json = JsonSerializer.Serialize(new ChatCompletionRequest { Tools = [ChatTool.Function("now")] }, LlmJsonContext.Default.ChatCompletionRequest);

        Assert.Equal("""{"messages":[],"tools":[{"type":"function","function":{"name":"now"}}]}""", json);
    }

    [Fact]
    public void Function_InvalidArguments_Throws()
    {
        using var array = JsonDocument.Parse("[]");

        Assert.Throws<ArgumentNullException>("name", () => ChatTool.Function(null!));
        Assert.Throws<ArgumentException>("name", () => ChatTool.Function(""));
        Assert.Throws<ArgumentException>("parameters", () => ChatTool.Function("f", parameters: array.RootElement));
        Assert.Throws<ArgumentException>("parameters", () => ChatTool.Function("f", parameters: default(JsonElement)));
    }
}
