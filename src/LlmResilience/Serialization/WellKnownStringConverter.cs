using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmResilience;

/// <summary>
/// Reads the strings that repeat in every response and every streamed chunk (<c>"chat.completion.chunk"</c>, <c>"default"</c>,
/// <c>"function"</c>, …) as shared instances instead of allocating them again; any other value is read as usual.
/// </summary>
/// <remarks>
/// A long stream has one chunk per token, each naming its object type and most its service tier. Roles and finish reasons,
/// which repeat as often, are read by <see cref="RoleStringConverter"/> and <see cref="FinishReasonStringConverter"/>, which
/// share the strings of the named <see cref="Chat.ChatRole"/> and <see cref="Chat.ChatFinishReason"/> values the same way.
/// </remarks>
internal sealed class WellKnownStringConverter : JsonConverter<string>
{
    private static readonly string[] s_values =
    [
        "chat.completion.chunk",
        "chat.completion",
        "function",
        "default",
        "auto",
        "flex",
        "scale",
        "priority",
    ];

    private static readonly byte[][] s_utf8Values = EncodeValues();

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            var span = reader.ValueSpan;
            var utf8Values = s_utf8Values;
            for (var i = 0; i < utf8Values.Length; i++)
            {
                if (span.SequenceEqual(utf8Values[i]))
                {
                    return s_values[i];
                }
            }
        }

        return reader.GetString();
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    private static byte[][] EncodeValues()
    {
        var encoded = new byte[s_values.Length][];
        for (var i = 0; i < s_values.Length; i++)
        {
            encoded[i] = System.Text.Encoding.UTF8.GetBytes(s_values[i]);
        }

        return encoded;
    }
}
