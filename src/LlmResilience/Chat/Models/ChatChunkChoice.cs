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

    internal ChatMessageDelta? _delta;

    // True when the answer said "delta": null (an absent delta, as in Azure's content-filter chunks, leaves it false).
    internal bool _deltaWasNull;

    [JsonInclude]
    [JsonPropertyName("delta")]
    internal ChatMessageDelta? WireDelta
    {
        get => _delta;
        set
        {
            _delta = value;
            _deltaWasNull = value is null;
        }
    }

    [JsonInclude]
    [JsonPropertyName("finish_reason")]
    [JsonConverter(typeof(FinishReasonStringConverter))]
    internal string? _finishReason;

    /// <summary>Gets the choice this fragment belongs to.</summary>
    [JsonIgnore]
    public int Index { get => _index; init => _index = value; }

    /// <summary>Gets what this chunk adds to the choice's message.</summary>
    [JsonIgnore]
    public ChatMessageDelta Delta { get => _delta ??= new ChatMessageDelta(); init => _delta = value; }

    /// <summary>
    /// Gets why the choice ended (<see cref="ChatFinishReason.Stop"/>, <see cref="ChatFinishReason.Length"/>,
    /// <see cref="ChatFinishReason.ToolCalls"/>, …) on its last chunk; <see langword="null"/> on the chunks before.
    /// </summary>
    [JsonIgnore]
    public ChatFinishReason? FinishReason
    {
        get => _finishReason is { } reason ? ChatFinishReason.FromWire(reason) : null;
        init => _finishReason = value?.Value;
    }
}
