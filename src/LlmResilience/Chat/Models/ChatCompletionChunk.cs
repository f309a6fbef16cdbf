using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// One server-sent event of a streamed completion (<c>"object":"chat.completion.chunk"</c>): a fragment of each choice, and on
/// the last chunk of a stream with <see cref="ChatStreamOptions.IncludeUsage"/> the usage with no choices.
/// </summary>
/// <remarks>Fields a server leaves out or sends as <c>null</c> read as empty; fields this type does not model are skipped.</remarks>
public sealed class ChatCompletionChunk
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("id")]
    [JsonConverter(typeof(RecentStringConverter))]
    internal string? _id;

    [JsonInclude]
    [JsonPropertyName("object")]
    [JsonConverter(typeof(WellKnownStringConverter))]
    internal string? _object;

    [JsonInclude]
    [JsonPropertyName("created")]
    [JsonConverter(typeof(NullAsZeroInt64Converter))]
    internal long _created;

    [JsonInclude]
    [JsonPropertyName("model")]
    [JsonConverter(typeof(RecentStringConverter))]
    internal string? _model;

    [JsonInclude]
    [JsonPropertyName("system_fingerprint")]
    [JsonConverter(typeof(RecentStringConverter))]
    internal string? _systemFingerprint;

    [JsonInclude]
    [JsonPropertyName("service_tier")]
    [JsonConverter(typeof(WellKnownStringConverter))]
    internal string? _serviceTier;

    [JsonInclude]
    [JsonPropertyName("choices")]
    internal IReadOnlyList<ChatChunkChoice>? _choices;

    [JsonInclude]
    [JsonPropertyName("usage")]
    internal ChatUsage? _usage;

    /// <summary>Gets the completion's id, the same on every chunk of the stream.</summary>
    [JsonIgnore]
    public string Id { get => _id ?? string.Empty; init => _id = value; }

    /// <summary>Gets the object type, <c>"chat.completion.chunk"</c>.</summary>
    [JsonIgnore]
    public string Object { get => _object ?? string.Empty; init => _object = value; }

    /// <summary>Gets when the completion was created, in seconds since the Unix epoch; the same on every chunk.</summary>
    [JsonIgnore]
    public long Created { get => _created; init => _created = value; }

    /// <summary>Gets the model that answers.</summary>
    [JsonIgnore]
    public string Model { get => _model ?? string.Empty; init => _model = value; }

    /// <summary>Gets the fingerprint of the backend configuration.</summary>
    [JsonIgnore]
    public string? SystemFingerprint { get => _systemFingerprint; init => _systemFingerprint = value; }

    /// <summary>Gets the processing tier that serves the request.</summary>
    [JsonIgnore]
    public string? ServiceTier { get => _serviceTier; init => _serviceTier = value; }

    /// <summary>Gets the fragments of the choices; empty on the usage chunk (and on Azure's first, content-filter chunk).</summary>
    [JsonIgnore]
    public IReadOnlyList<ChatChunkChoice> Choices { get => _choices ?? []; init => _choices = value; }

    /// <summary>Gets the tokens the call used: only on the last chunk, and only with <see cref="ChatStreamOptions.IncludeUsage"/>.</summary>
    [JsonIgnore]
    public ChatUsage? Usage { get => _usage; init => _usage = value; }

    /// <summary>Gets the first choice's fragment of text, or <see langword="null"/> when this chunk carries none.</summary>
    [JsonIgnore]
    public string? ContentDelta => Choices is { Count: > 0 } choices ? choices[0].Delta.Content : null;

    /// <summary>Gets why the first choice ended, on its last chunk; otherwise <see langword="null"/>.</summary>
    [JsonIgnore]
    public ChatFinishReason? FinishReason => Choices is { Count: > 0 } choices ? choices[0].FinishReason : null;

    /// <summary>Gets the id the server gave the HTTP request of the stream (its <c>x-request-id</c> header), on every chunk; not part of the JSON.</summary>
    [JsonIgnore]
    public string? RequestId { get; internal set; }

    /// <summary>Gets the name of the endpoint that is streaming the answer; not part of the JSON.</summary>
    [JsonIgnore]
    public string? Endpoint { get; internal set; }
}
