using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmResilience;

/// <summary>
/// Reads a JSON <c>null</c> as 0 for counts and indexes, which some gateways send where OpenAI sends a number
/// (LiteLLM writes <c>"audio_tokens":null</c>).
/// </summary>
internal sealed class NullAsZeroInt32Converter : JsonConverter<int>
{
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? 0 : reader.GetInt32();

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
