namespace LlmResilience.Chat;

/// <summary>Options of a streamed completion (the wire's <c>"stream_options"</c>).</summary>
public sealed class ChatStreamOptions
{
    /// <summary>
    /// Gets or sets whether the server sends a last chunk with the token usage and no choices (<c>"choices":[]</c>).
    /// </summary>
    public bool? IncludeUsage { get; set; }

    /// <summary>
    /// Gets or sets whether OpenAI pads chunks with a random <c>"obfuscation"</c> field against side-channel attacks;
    /// <see langword="false"/> saves bandwidth on trusted networks. Other servers ignore it.
    /// </summary>
    public bool? IncludeObfuscation { get; set; }
}
