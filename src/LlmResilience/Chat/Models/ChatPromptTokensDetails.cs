using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The breakdown of <see cref="ChatUsage.PromptTokens"/>.</summary>
public sealed class ChatPromptTokensDetails
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("cached_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _cachedTokens;

    [JsonInclude]
    [JsonPropertyName("audio_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _audioTokens;

    /// <summary>Gets the prompt tokens served from the prompt cache, which cost less.</summary>
    [JsonIgnore]
    public int CachedTokens { get => _cachedTokens; init => _cachedTokens = value; }

    /// <summary>Gets the prompt tokens of audio input.</summary>
    [JsonIgnore]
    public int AudioTokens { get => _audioTokens; init => _audioTokens = value; }
}
