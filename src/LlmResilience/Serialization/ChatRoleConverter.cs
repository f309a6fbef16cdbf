using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>Writes a <see cref="ChatRole"/> as a plain JSON string and reads it back, reusing the named roles' instances.</summary>
internal sealed class ChatRoleConverter : JsonConverter<ChatRole>
{
    public override ChatRole Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadRole(ref reader);

    public override void Write(Utf8JsonWriter writer, ChatRole value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);

    internal static ChatRole ReadRole(ref Utf8JsonReader reader) =>
        ReadRoleOrNull(ref reader) ?? throw new JsonException("A chat role must not be empty.");

    /// <summary>Reads a role from a JSON string; <see langword="null"/> for an empty or white-space one.</summary>
    internal static ChatRole? ReadRoleOrNull(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A chat role must be a JSON string, not {reader.TokenType}.");
        }

        if (reader.ValueTextEquals("user"u8))
        {
            return ChatRole.User;
        }

        if (reader.ValueTextEquals("assistant"u8))
        {
            return ChatRole.Assistant;
        }

        if (reader.ValueTextEquals("system"u8))
        {
            return ChatRole.System;
        }

        if (reader.ValueTextEquals("tool"u8))
        {
            return ChatRole.Tool;
        }

        if (reader.ValueTextEquals("developer"u8))
        {
            return ChatRole.Developer;
        }

        var value = reader.GetString();
        return string.IsNullOrWhiteSpace(value) ? null : new ChatRole(value);
    }
}
