using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The breakdown of <see cref="ChatUsage.PromptTokens"/>.</summary>
public sealed class ChatPromptTokensDetails
{
    /// <summary>Gets or sets the prompt tokens served from the prompt cache, which cost less.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int CachedTokens { get; set; }

    /// <summary>Gets or sets the prompt tokens of audio input.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int AudioTokens { get; set; }
}
