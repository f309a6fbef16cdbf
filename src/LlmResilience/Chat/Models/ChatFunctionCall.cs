using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The function a <see cref="ChatToolCall"/> called, and its arguments.</summary>
public sealed class ChatFunctionCall
{
    private string? _name;
    private string? _arguments;

    /// <summary>Gets the function's name.</summary>
    [JsonIgnore]
    public string Name { get => _name ?? string.Empty; init => _name = value; }

    /// <summary>
    /// Gets the arguments as the model wrote them: JSON text that usually, but not always, matches the function's schema.
    /// Validate it before use.
    /// </summary>
    [JsonIgnore]
    public string Arguments { get => _arguments ?? string.Empty; init => _arguments = value; }

    // The JSON members, not the init-only properties (see the remarks on LlmJsonContext). Requests replay tool calls, so
    // these write what the properties read, defaults included.
    [JsonInclude]
    [JsonPropertyName("name")]
    internal string WireName { get => Name; set => _name = value; }

    [JsonInclude]
    [JsonPropertyName("arguments")]
    internal string WireArguments { get => Arguments; set => _arguments = value; }
}
