using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// Writes a <see cref="ChatResponseFormat"/> as <c>{"type":…}</c>, with <c>"json_schema":{"name","schema","strict","description"}</c>
/// for a schema format, and reads it back.
/// </summary>
internal sealed class ChatResponseFormatConverter : JsonConverter<ChatResponseFormat>
{
    private static readonly JsonEncodedText s_type = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText s_jsonSchema = JsonEncodedText.Encode("json_schema");
    private static readonly JsonEncodedText s_name = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText s_schema = JsonEncodedText.Encode("schema");
    private static readonly JsonEncodedText s_strict = JsonEncodedText.Encode("strict");
    private static readonly JsonEncodedText s_description = JsonEncodedText.Encode("description");

    public override ChatResponseFormat Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"A response format must be a JSON object, not {reader.TokenType}.");
        }

        string? type = null, name = null, description = null;
        JsonElement? schema = null;
        bool? strict = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(s_type.EncodedUtf8Bytes))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals(s_jsonSchema.EncodedUtf8Bytes))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals(s_name.EncodedUtf8Bytes))
                    {
                        reader.Read();
                        name = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        reader.Skip();
                    }
                    else if (reader.ValueTextEquals(s_schema.EncodedUtf8Bytes))
                    {
                        reader.Read();
                        schema = reader.TokenType == JsonTokenType.Null ? null : JsonElement.ParseValue(ref reader);
                    }
                    else if (reader.ValueTextEquals(s_strict.EncodedUtf8Bytes))
                    {
                        reader.Read();
                        strict = reader.TokenType switch
                        {
                            JsonTokenType.True => true,
                            JsonTokenType.False => false,
                            _ => null,
                        };
                        reader.Skip();
                    }
                    else if (reader.ValueTextEquals(s_description.EncodedUtf8Bytes))
                    {
                        reader.Read();
                        description = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        reader.Skip();
                    }
                    else
                    {
                        reader.Read();
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

        return type switch
        {
            ChatResponseFormat.TextType => ChatResponseFormat.Text,
            ChatResponseFormat.JsonObjectType => ChatResponseFormat.JsonObject,
            null => throw new JsonException("A response format has no \"type\"."),
            _ => new ChatResponseFormat(type, name, schema, strict, description),
        };
    }

    public override void Write(Utf8JsonWriter writer, ChatResponseFormat value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(s_type, value.Type);
        if (value.Type == ChatResponseFormat.JsonSchemaType)
        {
            writer.WriteStartObject(s_jsonSchema);
            if (value.SchemaName is { } name)
            {
                writer.WriteString(s_name, name);
            }

            if (value.Schema is { } schema)
            {
                writer.WritePropertyName(s_schema);
                schema.WriteTo(writer);
            }

            if (value.Strict is { } strict)
            {
                writer.WriteBoolean(s_strict, strict);
            }

            if (value.Description is { } description)
            {
                writer.WriteString(s_description, description);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
