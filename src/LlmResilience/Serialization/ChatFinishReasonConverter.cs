using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// Writes a <see cref="ChatFinishReason"/> as a plain JSON string and reads it back, reusing the named reasons' instances
/// (one chunk per token names its finish reason, so the common ones must not allocate); an unknown reason is read as it is.
/// </summary>
internal sealed class ChatFinishReasonConverter : JsonConverter<ChatFinishReason>
{
    public override ChatFinishReason Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ReadReasonOrNull(ref reader) ?? throw new JsonException("A finish reason must not be empty.");

    public override void Write(Utf8JsonWriter writer, ChatFinishReason value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);

    /// <summary>Reads a finish reason from a JSON string; <see langword="null"/> for an empty or white-space one.</summary>
    internal static ChatFinishReason? ReadReasonOrNull(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A finish reason must be a JSON string, not {reader.TokenType}.");
        }

        if (reader.ValueTextEquals("stop"u8))
        {
            return ChatFinishReason.Stop;
        }

        if (reader.ValueTextEquals("length"u8))
        {
            return ChatFinishReason.Length;
        }

        if (reader.ValueTextEquals("tool_calls"u8))
        {
            return ChatFinishReason.ToolCalls;
        }

        if (reader.ValueTextEquals("content_filter"u8))
        {
            return ChatFinishReason.ContentFilter;
        }

        if (reader.ValueTextEquals("function_call"u8))
        {
            return ChatFinishReason.FunctionCall;
        }

        var value = reader.GetString();
        return string.IsNullOrWhiteSpace(value) ? null : new ChatFinishReason(value);
    }
}
