using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>A fragment of a streamed function call.</summary>
public sealed class ChatFunctionCallDelta
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("name")]
    internal string? _name;

    [JsonInclude]
    [JsonPropertyName("arguments")]
    internal string? _arguments;

    /// <summary>Gets the function's name, on the call's first fragment.</summary>
    [JsonIgnore]
    public string? Name { get => _name; init => _name = value; }

    /// <summary>Gets the next piece of the arguments' JSON text.</summary>
    [JsonIgnore]
    public string? Arguments { get => _arguments; init => _arguments = value; }
}
