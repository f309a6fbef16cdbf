namespace LlmResilience;

/// <summary>
/// Reads a response's media type from the raw <c>Content-Type</c> header, without building a
/// <see cref="System.Net.Http.Headers.MediaTypeHeaderValue"/>: the pipeline and the client look at it on every call.
/// </summary>
internal static class MediaTypes
{
    public const string EventStream = "text/event-stream";

    /// <summary>The media type without parameters (<c>"application/json"</c> of <c>"application/json; charset=utf-8"</c>), or empty when there is none.</summary>
    public static ReadOnlySpan<char> Of(HttpContent content)
    {
        if (!content.Headers.NonValidated.TryGetValues("Content-Type", out var values))
        {
            return default;
        }

        // One value is the usual case and is handed out as stored; several are joined, and the first one counts.
        var raw = values.ToString().AsSpan();
        var end = raw.IndexOfAny(';', ',');
        return (end < 0 ? raw : raw[..end]).Trim();
    }

    public static bool IsEventStream(HttpContent content) => Of(content).Equals(EventStream, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the media type is JSON (<c>application/json</c>, <c>application/problem+json</c>, …) or absent.</summary>
    public static bool IsJsonOrAbsent(HttpContent content)
    {
        var mediaType = Of(content);
        return mediaType.IsEmpty || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The media type for a message, or <c>"untyped"</c>.</summary>
    public static string Describe(HttpContent content) => Of(content) is { IsEmpty: false } mediaType ? mediaType.ToString() : "untyped";
}
