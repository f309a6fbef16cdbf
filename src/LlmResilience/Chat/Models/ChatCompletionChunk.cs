using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// One server-sent event of a streamed completion (<c>"object":"chat.completion.chunk"</c>): a fragment of each choice, and on
/// the last chunk of a stream with <see cref="ChatStreamOptions.IncludeUsage"/> the usage with no choices.
/// </summary>
/// <remarks>Fields a server leaves out or sends as <c>null</c> read as empty; fields this type does not model are skipped.</remarks>
public sealed class ChatCompletionChunk
{
    /// <summary>Gets or sets the completion's id, the same on every chunk of the stream.</summary>
    [JsonConverter(typeof(RecentStringConverter))]
    public string Id { get => field ?? string.Empty; set; }

    /// <summary>Gets or sets the object type, <c>"chat.completion.chunk"</c>.</summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string Object { get => field ?? string.Empty; set; }

    /// <summary>Gets or sets when the completion was created, in seconds since the Unix epoch; the same on every chunk.</summary>
    [JsonConverter(typeof(NullAsZeroInt64Converter))]
    public long Created { get; set; }

    /// <summary>Gets or sets the model that answers.</summary>
    [JsonConverter(typeof(RecentStringConverter))]
    public string Model { get => field ?? string.Empty; set; }

    /// <summary>Gets or sets the fingerprint of the backend configuration.</summary>
    [JsonConverter(typeof(RecentStringConverter))]
    public string? SystemFingerprint { get; set; }

    /// <summary>Gets or sets the processing tier that serves the request.</summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string? ServiceTier { get; set; }

    /// <summary>Gets or sets the fragments of the choices; empty on the usage chunk (and on Azure's first, content-filter chunk).</summary>
    public IReadOnlyList<ChatChunkChoice> Choices { get => field ?? []; set; }

    /// <summary>Gets or sets the tokens the call used: only on the last chunk, and only with <see cref="ChatStreamOptions.IncludeUsage"/>.</summary>
    public ChatUsage? Usage { get; set; }

    /// <summary>Gets the first choice's fragment of text, or <see langword="null"/> when this chunk carries none.</summary>
    [JsonIgnore]
    public string? ContentDelta => Choices is { Count: > 0 } choices ? choices[0].Delta.Content : null;

    /// <summary>Gets why the first choice ended, on its last chunk; otherwise <see langword="null"/>.</summary>
    [JsonIgnore]
    public string? FinishReason => Choices is { Count: > 0 } choices ? choices[0].FinishReason : null;
}
