using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// One part of a multi-part user message: a text part (<c>{"type":"text","text":…}</c>) or an image part
/// (<c>{"type":"image_url","image_url":{"url":…,"detail":…}}</c>). Create parts with <see cref="Text(string)"/> and
/// <see cref="ImageUrl(string, string?)"/>.
/// </summary>
/// <remarks>
/// A part of another type read from JSON (for example <c>input_audio</c>) keeps its <see cref="Type"/> only; its payload is dropped.
/// </remarks>
[JsonConverter(typeof(ChatContentPartConverter))]
public sealed class ChatContentPart
{
    internal const string TextType = "text";
    internal const string ImageUrlType = "image_url";

    internal ChatContentPart(string type, string? textContent, string? url, string? detail)
    {
        Type = type;
        TextContent = textContent;
        Url = url;
        Detail = detail;
    }

    /// <summary>Gets the part's wire type: <c>"text"</c> or <c>"image_url"</c>.</summary>
    public string Type { get; }

    /// <summary>Gets the text of a <c>"text"</c> part; <see langword="null"/> for other parts.</summary>
    public string? TextContent { get; }

    /// <summary>Gets the image URL of an <c>"image_url"</c> part (an <c>https:</c> URL or a <c>data:</c> URI); <see langword="null"/> for other parts.</summary>
    public string? Url { get; }

    /// <summary>Gets the detail level of an image part (<c>"low"</c>, <c>"high"</c> or <c>"auto"</c>), or <see langword="null"/> for the server's default.</summary>
    public string? Detail { get; }

    /// <summary>Creates a text part.</summary>
    /// <param name="text">The text.</param>
    /// <returns>A part of type <c>"text"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is <see langword="null"/>.</exception>
    public static ChatContentPart Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new ChatContentPart(TextType, text, url: null, detail: null);
    }

    /// <summary>Creates an image part.</summary>
    /// <param name="url">The image's <c>https:</c> URL, or a <c>data:image/…;base64,…</c> URI.</param>
    /// <param name="detail">The detail level: <c>"low"</c>, <c>"high"</c> or <c>"auto"</c>; <see langword="null"/> leaves it to the server.</param>
    /// <returns>A part of type <c>"image_url"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="url"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="url"/> is empty or white space.</exception>
    public static ChatContentPart ImageUrl(string url, string? detail = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        return new ChatContentPart(ImageUrlType, textContent: null, url, detail);
    }
}
