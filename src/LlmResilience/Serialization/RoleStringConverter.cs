using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// Reads a response's <c>"role"</c> into the string its message or delta keeps: a named role as the shared string of that
/// <see cref="ChatRole"/>, an unknown one as it is, and an empty one as <see langword="null"/> rather than failing the call.
/// </summary>
/// <remarks>As <see cref="FinishReasonStringConverter"/>: a string keeps the object as small as it was; its property wraps it.</remarks>
internal sealed class RoleStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ChatRoleConverter.ReadRoleOrNull(ref reader)?.Value;

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
