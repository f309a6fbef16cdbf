using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// Writes a <see cref="ChatToolChoice"/> as <c>"auto"</c>, <c>"none"</c> or <c>"required"</c>, or as
/// <c>{"type":"function","function":{"name":…}}</c>, and reads both forms back.
/// </summary>
internal sealed class ChatToolChoiceConverter : JsonConverter<ChatToolChoice>
{
    private static readonly JsonEncodedText s_type = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText s_function = JsonEncodedText.Encode("function");
    private static readonly JsonEncodedText s_name = JsonEncodedText.Encode("name");

    public override ChatToolChoice Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return FromType(reader.GetString()!, functionName: null);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"A tool choice must be a JSON string or object, not {reader.TokenType}.");
        }

        string? type = null, functionName = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(s_type.EncodedUtf8Bytes))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals(s_function.EncodedUtf8Bytes))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isName = reader.ValueTextEquals(s_name.EncodedUtf8Bytes);
                    reader.Read();
                    if (isName && reader.TokenType == JsonTokenType.String)
                    {
                        functionName = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return FromType(type ?? throw new JsonException("A tool choice object has no \"type\"."), functionName);
    }

    public override void Write(Utf8JsonWriter writer, ChatToolChoice value, JsonSerializerOptions options)
    {
        if (value.FunctionName is not { } functionName)
        {
            writer.WriteStringValue(value.Type);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString(s_type, value.Type);
        writer.WriteStartObject(s_function);
        writer.WriteString(s_name, functionName);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static ChatToolChoice FromType(string type, string? functionName) => type switch
    {
        ChatToolChoice.AutoType => ChatToolChoice.Auto,
        ChatToolChoice.NoneType => ChatToolChoice.None,
        ChatToolChoice.RequiredType => ChatToolChoice.Required,
        _ => new ChatToolChoice(type, functionName),
    };
}
