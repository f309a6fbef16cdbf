using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The tokens a call used: in a <see cref="ChatCompletion"/>, or in the last chunk of a stream asked for with <see cref="ChatStreamOptions.IncludeUsage"/>.</summary>
/// <remarks>A count the server sends as <c>null</c> reads as 0.</remarks>
public sealed class ChatUsage
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("prompt_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _promptTokens;

    [JsonInclude]
    [JsonPropertyName("completion_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _completionTokens;

    [JsonInclude]
    [JsonPropertyName("total_tokens")]
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    internal int _totalTokens;

    [JsonInclude]
    [JsonPropertyName("prompt_tokens_details")]
    internal ChatPromptTokensDetails? _promptTokensDetails;

    [JsonInclude]
    [JsonPropertyName("completion_tokens_details")]
    internal ChatCompletionTokensDetails? _completionTokensDetails;

    /// <summary>Gets the tokens of the prompt.</summary>
    [JsonIgnore]
    public int PromptTokens { get => _promptTokens; init => _promptTokens = value; }

    /// <summary>Gets the tokens generated, reasoning tokens included.</summary>
    [JsonIgnore]
    public int CompletionTokens { get => _completionTokens; init => _completionTokens = value; }

    /// <summary>Gets the tokens of prompt and completion together.</summary>
    [JsonIgnore]
    public int TotalTokens { get => _totalTokens; init => _totalTokens = value; }

    /// <summary>Gets the breakdown of the prompt tokens, or <see langword="null"/> when the server did not send one.</summary>
    [JsonIgnore]
    public ChatPromptTokensDetails? PromptTokensDetails { get => _promptTokensDetails; init => _promptTokensDetails = value; }

    /// <summary>Gets the breakdown of the completion tokens, or <see langword="null"/> when the server did not send one.</summary>
    [JsonIgnore]
    public ChatCompletionTokensDetails? CompletionTokensDetails { get => _completionTokensDetails; init => _completionTokensDetails = value; }
}
