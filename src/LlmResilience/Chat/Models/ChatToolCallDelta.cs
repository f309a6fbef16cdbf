using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// A fragment of a streamed tool call. The first fragment of a call carries <see cref="Index"/>, <see cref="Id"/>,
/// <see cref="Type"/> and the function's name; the later ones only <see cref="Index"/> and a piece of the arguments.
/// </summary>
public sealed class ChatToolCallDelta
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("index")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _index;

    [JsonInclude]
    [JsonPropertyName("id")]
    internal string? _id;

    [JsonInclude]
    [JsonPropertyName("type")]
    [JsonConverter(typeof(WellKnownStringConverter))]
    internal string? _type;

    [JsonInclude]
    [JsonPropertyName("function")]
    internal ChatFunctionCallDelta? _functionCall;

    /// <summary>Gets the position of the call this fragment belongs to, which ties the fragments of one call together.</summary>
    [JsonIgnore]
    public int Index { get => _index; init => _index = value; }

    /// <summary>Gets the call's id, on its first fragment.</summary>
    [JsonIgnore]
    public string? Id { get => _id; init => _id = value; }

    /// <summary>Gets the call's type (<c>"function"</c>), on its first fragment.</summary>
    [JsonIgnore]
    public string? Type { get => _type; init => _type = value; }

    /// <summary>Gets the fragment of the function's name and arguments (the wire's <c>"function"</c>).</summary>
    [JsonIgnore]
    public ChatFunctionCallDelta? FunctionCall { get => _functionCall; init => _functionCall = value; }
}
