using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmResilience;

/// <summary>Reads a JSON <c>null</c> as 0 for timestamps, which some OpenAI-compatible servers send as <c>"created":null</c>.</summary>
internal sealed class NullAsZeroInt64Converter : JsonConverter<long>
{
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? 0 : reader.GetInt64();

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
