using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>One answer of a <see cref="ChatCompletion"/>.</summary>
public sealed class ChatChoice
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("index")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _index;

    [JsonInclude]
    [JsonPropertyName("message")]
    internal ChatResponseMessage? _message;

    [JsonInclude]
    [JsonPropertyName("finish_reason")]
    [JsonConverter(typeof(WellKnownStringConverter))]
    internal string? _finishReason;

    /// <summary>Gets the choice's position among <see cref="ChatCompletion.Choices"/>.</summary>
    [JsonIgnore]
    public int Index { get => _index; init => _index = value; }

    /// <summary>Gets the message the model wrote.</summary>
    [JsonIgnore]
    public ChatResponseMessage Message { get => _message ??= new ChatResponseMessage(); init => _message = value; }

    /// <summary>
    /// Gets why the model stopped: <c>"stop"</c> (a natural end or a stop sequence), <c>"length"</c> (the token limit),
    /// <c>"tool_calls"</c>, <c>"content_filter"</c>; or <see langword="null"/>.
    /// </summary>
    [JsonIgnore]
    public string? FinishReason { get => _finishReason; init => _finishReason = value; }
}
