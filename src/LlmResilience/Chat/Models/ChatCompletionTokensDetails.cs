using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The breakdown of <see cref="ChatUsage.CompletionTokens"/>.</summary>
public sealed class ChatCompletionTokensDetails
{
    /// <summary>Gets or sets the tokens a reasoning model spent thinking; billed, but not part of the answer.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int ReasoningTokens { get; set; }

    /// <summary>Gets or sets the completion tokens of audio output.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int AudioTokens { get; set; }

    /// <summary>Gets or sets the tokens of a predicted output that appeared in the completion.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int AcceptedPredictionTokens { get; set; }

    /// <summary>Gets or sets the tokens of a predicted output that did not appear in the completion; billed nonetheless.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int RejectedPredictionTokens { get; set; }
}
