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
    [JsonConverter(typeof(FinishReasonStringConverter))]
    internal string? _finishReason;

    /// <summary>Gets the choice's position among <see cref="ChatCompletion.Choices"/>.</summary>
    [JsonIgnore]
    public int Index { get => _index; init => _index = value; }

    /// <summary>Gets the message the model wrote.</summary>
    [JsonIgnore]
    public ChatResponseMessage Message { get => _message ??= new ChatResponseMessage(); init => _message = value; }

    /// <summary>
    /// Gets why the model stopped: <see cref="ChatFinishReason.Stop"/> (a natural end or a stop sequence),
    /// <see cref="ChatFinishReason.Length"/> (the token limit), <see cref="ChatFinishReason.ToolCalls"/>,
    /// <see cref="ChatFinishReason.ContentFilter"/> or another reason; or <see langword="null"/> when the server sent none.
    /// </summary>
    [JsonIgnore]
    public ChatFinishReason? FinishReason
    {
        get => _finishReason is { } reason ? ChatFinishReason.FromWire(reason) : null;
        init => _finishReason = value?.Value;
    }
}
