using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>A response of the Chat Completions endpoint (<c>"object":"chat.completion"</c>).</summary>
/// <remarks>
/// Fields a server leaves out or sends as <c>null</c> read as empty; fields this type does not model are skipped. The
/// properties are init-only: a completion is what the server said, and an object initializer still builds one for a fake.
/// </remarks>
public sealed class ChatCompletion
{
    // The largest Unix time DateTimeOffset holds (9999-12-31T23:59:59Z), in seconds and in milliseconds.
    private const long MaxUnixSeconds = 253_402_300_799;
    private const long MaxUnixMilliseconds = 253_402_300_799_999;

    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("id")]
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
    [JsonPropertyName("choices")]
    internal IReadOnlyList<ChatChoice>? _choices;

    [JsonInclude]
    [JsonPropertyName("usage")]
    internal ChatUsage? _usage;

    [JsonInclude]
    [JsonPropertyName("system_fingerprint")]
    [JsonConverter(typeof(RecentStringConverter))]
    internal string? _systemFingerprint;

    [JsonInclude]
    [JsonPropertyName("service_tier")]
    [JsonConverter(typeof(WellKnownStringConverter))]
    internal string? _serviceTier;

    /// <summary>Gets the completion's id, for example <c>"chatcmpl-…"</c>.</summary>
    [JsonIgnore]
    public string Id { get => _id ?? string.Empty; init => _id = value; }

    /// <summary>Gets the object type, <c>"chat.completion"</c>.</summary>
    [JsonIgnore]
    public string Object { get => _object ?? string.Empty; init => _object = value; }

    /// <summary>Gets when the completion was created, in seconds since the Unix epoch.</summary>
    [JsonIgnore]
    public long Created { get => _created; init => _created = value; }

    /// <summary>
    /// Gets when the completion was created (<see cref="Created"/> as a date). A value too large for seconds is taken as
    /// milliseconds, which some servers send; a value that is neither gives the Unix epoch rather than an exception.
    /// </summary>
    [JsonIgnore]
    public DateTimeOffset CreatedAt => Created switch
    {
        >= 0 and <= MaxUnixSeconds => DateTimeOffset.FromUnixTimeSeconds(Created),
        > MaxUnixSeconds and <= MaxUnixMilliseconds => DateTimeOffset.FromUnixTimeMilliseconds(Created),
        _ => DateTimeOffset.UnixEpoch,
    };

    /// <summary>Gets the model that answered, which may name a dated snapshot of the model requested.</summary>
    [JsonIgnore]
    public string Model { get => _model ?? string.Empty; init => _model = value; }

    /// <summary>Gets the answers; one unless the request asked for more with <see cref="ChatCompletionRequest.N"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<ChatChoice> Choices { get => _choices ?? []; init => _choices = value; }

    /// <summary>Gets the tokens the call used, or <see langword="null"/> when the server did not say.</summary>
    [JsonIgnore]
    public ChatUsage? Usage { get => _usage; init => _usage = value; }

    /// <summary>Gets the fingerprint of the backend configuration, which changes when a deterministic <see cref="ChatCompletionRequest.Seed"/> may give different results.</summary>
    [JsonIgnore]
    public string? SystemFingerprint { get => _systemFingerprint; init => _systemFingerprint = value; }

    /// <summary>Gets the processing tier that served the request, for example <c>"default"</c> or <c>"flex"</c>.</summary>
    [JsonIgnore]
    public string? ServiceTier { get => _serviceTier; init => _serviceTier = value; }

    /// <summary>Gets the id the server gave the HTTP request (its <c>x-request-id</c> header), for support tickets and logs; not part of the JSON.</summary>
    [JsonIgnore]
    public string? RequestId { get; internal set; }

    /// <summary>Gets the name of the endpoint that answered (<see cref="LlmEndpoint.Name"/>; for a client with one endpoint, its base address); not part of the JSON.</summary>
    [JsonIgnore]
    public string? Endpoint { get; internal set; }

    /// <summary>Gets the first choice's text, or <see langword="null"/> when there is none (for example when the model only called tools).</summary>
    [JsonIgnore]
    public string? Content => Choices is { Count: > 0 } choices ? choices[0].Message.Content : null;

    /// <summary>Gets why the first choice ended (<see cref="ChatFinishReason.Stop"/>, <see cref="ChatFinishReason.Length"/>, <see cref="ChatFinishReason.ToolCalls"/>, …), or <see langword="null"/>.</summary>
    [JsonIgnore]
    public ChatFinishReason? FinishReason => Choices is { Count: > 0 } choices ? choices[0].FinishReason : null;
}
