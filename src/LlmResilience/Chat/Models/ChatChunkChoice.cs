using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The fragment of one choice in a <see cref="ChatCompletionChunk"/>.</summary>
public sealed class ChatChunkChoice
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("index")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _index;

    [JsonInclude]
    [JsonPropertyName("delta")]
    internal ChatMessageDelta? _delta;

    [JsonInclude]
    [JsonPropertyName("finish_reason")]
    [JsonConverter(typeof(WellKnownStringConverter))]
    internal string? _finishReason;

    /// <summary>Gets the choice this fragment belongs to.</summary>
    [JsonIgnore]
    public int Index { get => _index; init => _index = value; }

    /// <summary>Gets what this chunk adds to the choice's message.</summary>
    [JsonIgnore]
    public ChatMessageDelta Delta { get => _delta ??= new ChatMessageDelta(); init => _delta = value; }

    /// <summary>Gets why the choice ended, on its last chunk (<c>"stop"</c>, <c>"length"</c>, <c>"tool_calls"</c>, <c>"content_filter"</c>); otherwise <see langword="null"/>.</summary>
    [JsonIgnore]
    public string? FinishReason { get => _finishReason; init => _finishReason = value; }
}
