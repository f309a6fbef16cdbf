using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatResponseFormatTests
{
    [Fact]
    public void NamedFormats_Type_IsTheWireName()
    {
        Assert.Equal("text", ChatResponseFormat.Text.Type);
        Assert.Equal("json_object", ChatResponseFormat.JsonObject.Type);
    }

    [Fact]
    public void JsonSchema_AllArguments_KeepsThem()
    {
        using var schema = JsonDocument.Parse("""{"type":"object"}""");

        var format = ChatResponseFormat.JsonSchema("answer", schema.RootElement, strict: false, description: "d");

        Assert.Equal(("json_schema", "answer", false, "d"), (format.Type, format.SchemaName, format.Strict, format.Description));
        Assert.Equal("""{"type":"object"}""", format.Schema!.Value.GetRawText());
        Assert.Equal("json_schema:answer", format.ToString());
    }

    [Fact]
    public void JsonSchema_InvalidArguments_Throws()
    {
        using var schema = JsonDocument.Parse("""{"type":"object"}""");
        using var text = JsonDocument.Parse("\"object\"");

        Assert.Throws<ArgumentNullException>("name", () => ChatResponseFormat.JsonSchema(null!, schema.RootElement));
        Assert.Throws<ArgumentException>("schema", () => ChatResponseFormat.JsonSchema("a", default));
        Assert.Throws<ArgumentException>("schema", () => ChatResponseFormat.JsonSchema("a", text.RootElement));
    }

    [Fact]
    public void Deserialize_EachForm_ReadsFormat()
    {
        static ChatResponseFormat Read(string format) =>
            JsonSerializer.Deserialize("{\"response_format\":" + format + "}", LlmJsonContext.Default.ChatCompletionRequest)!.ResponseFormat!;

        Assert.Same(ChatResponseFormat.Text, Read("""{"type":"text"}"""));
        Assert.Same(ChatResponseFormat.JsonObject, Read("""{"type":"json_object"}"""));
        var schema = Read("""{"type":"json_schema","json_schema":{"description":"d","name":"n","schema":{"type":"object"},"strict":true,"x":null}}""");
        Assert.Equal(("n", true, "d"), (schema.SchemaName, schema.Strict, schema.Description));
        Assert.Equal(JsonValueKind.Object, schema.Schema!.Value.ValueKind);
        Assert.Throws<JsonException>(() => Read("""{"json_schema":{}}"""));
    }
}
