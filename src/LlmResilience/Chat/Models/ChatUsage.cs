using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The tokens a call used: in a <see cref="ChatCompletion"/>, or in the last chunk of a stream asked for with <see cref="ChatStreamOptions.IncludeUsage"/>.</summary>
/// <remarks>A count the server sends as <c>null</c> reads as 0.</remarks>
public sealed class ChatUsage
{
    /// <summary>Gets or sets the tokens of the prompt.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int PromptTokens { get; set; }

    /// <summary>Gets or sets the tokens generated, reasoning tokens included.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int CompletionTokens { get; set; }

    /// <summary>Gets or sets the tokens of prompt and completion together.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int TotalTokens { get; set; }

    /// <summary>Gets or sets the breakdown of the prompt tokens, or <see langword="null"/> when the server did not send one.</summary>
    public ChatPromptTokensDetails? PromptTokensDetails { get; set; }

    /// <summary>Gets or sets the breakdown of the completion tokens, or <see langword="null"/> when the server did not send one.</summary>
    public ChatCompletionTokensDetails? CompletionTokensDetails { get; set; }
}
