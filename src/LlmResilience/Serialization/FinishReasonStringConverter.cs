using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// Reads a response's <c>"finish_reason"</c> into the string its choice keeps: a named reason as the shared string of
/// that <see cref="ChatFinishReason"/>, an unknown one as it is, and the empty string some OpenAI-compatible servers send
/// on the chunks before the last as <see langword="null"/> (the choice has not ended) rather than failing the call.
/// </summary>
/// <remarks>
/// The choice keeps a string rather than a <see cref="Nullable{T}"/> of <see cref="ChatFinishReason"/>, which would make every
/// choice, one per streamed chunk, 8 bytes larger; its property wraps the string on each read.
/// </remarks>
internal sealed class FinishReasonStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ChatFinishReasonConverter.ReadReasonOrNull(ref reader)?.Value;

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
