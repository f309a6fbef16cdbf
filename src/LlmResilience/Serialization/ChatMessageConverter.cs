using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// Writes a <see cref="ChatMessage"/> with <c>"content"</c> as a string (<see cref="ChatMessage.Content"/>) or an array
/// (<see cref="ChatMessage.ContentParts"/>), and reads both forms back.
/// </summary>
internal sealed class ChatMessageConverter : JsonConverter<ChatMessage>
{
    private static readonly JsonEncodedText s_role = JsonEncodedText.Encode("role");
    private static readonly JsonEncodedText s_content = JsonEncodedText.Encode("content");
    private static readonly JsonEncodedText s_name = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText s_refusal = JsonEncodedText.Encode("refusal");
    private static readonly JsonEncodedText s_toolCalls = JsonEncodedText.Encode("tool_calls");
    private static readonly JsonEncodedText s_toolCallId = JsonEncodedText.Encode("tool_call_id");

    public override ChatMessage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"A chat message must be a JSON object, not {reader.TokenType}.");
        }

        ChatRole? role = null;
        string? content = null, name = null, refusal = null, toolCallId = null;
        List<ChatContentPart>? parts = null;
        List<ChatToolCall>? toolCalls = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(s_role.EncodedUtf8Bytes))
            {
                reader.Read();
                role = ChatRoleConverter.ReadRole(ref reader);
            }
            else if (reader.ValueTextEquals(s_content.EncodedUtf8Bytes))
            {
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        content = reader.GetString();
                        break;
                    case JsonTokenType.StartArray:
                        parts = [];
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            parts.Add(ChatContentPartConverter.ReadPart(ref reader));
                        }

                        break;
                    case JsonTokenType.Null:
                        break;
                    default:
                        throw new JsonException($"A message's \"content\" must be a string, an array or null, not {reader.TokenType}.");
                }
            }
            else if (reader.ValueTextEquals(s_name.EncodedUtf8Bytes))
            {
                name = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals(s_refusal.EncodedUtf8Bytes))
            {
                refusal = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals(s_toolCallId.EncodedUtf8Bytes))
            {
                toolCallId = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals(s_toolCalls.EncodedUtf8Bytes))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    var typeInfo = GetToolCallTypeInfo(options);
                    toolCalls = [];
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        toolCalls.Add(JsonSerializer.Deserialize(ref reader, typeInfo) ?? throw new JsonException("A tool call must not be null."));
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ChatMessage(role ?? throw new JsonException("A chat message has no \"role\"."))
        {
            Content = content,
            ContentParts = parts,
            Name = name,
            Refusal = refusal,
            ToolCalls = toolCalls,
            ToolCallId = toolCallId,
        };
    }

    public override void Write(Utf8JsonWriter writer, ChatMessage value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(s_role, value.Role.Value);
        if (value.ContentParts is { } parts)
        {
            writer.WriteStartArray(s_content);
            for (var i = 0; i < parts.Count; i++)
            {
                ChatContentPartConverter.WritePart(writer, parts[i]);
            }

            writer.WriteEndArray();
        }
        else if (value.Content is { } content)
        {
            writer.WriteString(s_content, content);
        }
        else if (value.Role == ChatRole.Assistant)
        {
            // Older Azure OpenAI API versions and some gateways require the key on assistant messages that only call tools.
            writer.WriteNull(s_content);
        }

        if (value.Name is { } name)
        {
            writer.WriteString(s_name, name);
        }

        if (value.Refusal is { } refusal)
        {
            writer.WriteString(s_refusal, refusal);
        }

        // OpenAI rejects "tool_calls":[] with HTTP 400, so an empty list is left out.
        if (value.ToolCalls is { Count: > 0 } toolCalls)
        {
            var typeInfo = GetToolCallTypeInfo(options);
            writer.WriteStartArray(s_toolCalls);
            for (var i = 0; i < toolCalls.Count; i++)
            {
                JsonSerializer.Serialize(writer, toolCalls[i], typeInfo);
            }

            writer.WriteEndArray();
        }

        if (value.ToolCallId is { } toolCallId)
        {
            writer.WriteString(s_toolCallId, toolCallId);
        }

        writer.WriteEndObject();
    }

    // Resolved through the caller's options, so a context other than LlmJsonContext keeps its own settings.
    private static JsonTypeInfo<ChatToolCall> GetToolCallTypeInfo(JsonSerializerOptions options) =>
        (JsonTypeInfo<ChatToolCall>)options.GetTypeInfo(typeof(ChatToolCall));

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }
}
