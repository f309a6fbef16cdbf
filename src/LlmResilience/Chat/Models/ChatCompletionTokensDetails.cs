using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The breakdown of <see cref="ChatUsage.CompletionTokens"/>.</summary>
public sealed class ChatCompletionTokensDetails
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("reasoning_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _reasoningTokens;

    [JsonInclude]
    [JsonPropertyName("audio_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _audioTokens;

    [JsonInclude]
    [JsonPropertyName("accepted_prediction_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _acceptedPredictionTokens;

    [JsonInclude]
    [JsonPropertyName("rejected_prediction_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _rejectedPredictionTokens;

    /// <summary>Gets the tokens a reasoning model spent thinking; billed, but not part of the answer.</summary>
    [JsonIgnore]
    public int ReasoningTokens { get => _reasoningTokens; init => _reasoningTokens = value; }

    /// <summary>Gets the completion tokens of audio output.</summary>
    [JsonIgnore]
    public int AudioTokens { get => _audioTokens; init => _audioTokens = value; }

    /// <summary>Gets the tokens of a predicted output that appeared in the completion.</summary>
    [JsonIgnore]
    public int AcceptedPredictionTokens { get => _acceptedPredictionTokens; init => _acceptedPredictionTokens = value; }

    /// <summary>Gets the tokens of a predicted output that did not appear in the completion; billed nonetheless.</summary>
    [JsonIgnore]
    public int RejectedPredictionTokens { get => _rejectedPredictionTokens; init => _rejectedPredictionTokens = value; }
}
