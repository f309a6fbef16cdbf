using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>A response of the Chat Completions endpoint (<c>"object":"chat.completion"</c>).</summary>
/// <remarks>Fields a server leaves out or sends as <c>null</c> read as empty; fields this type does not model are skipped.</remarks>
public sealed class ChatCompletion
{
    /// <summary>Gets or sets the completion's id, for example <c>"chatcmpl-…"</c>.</summary>
    public string Id { get => field ?? string.Empty; set; }

    /// <summary>Gets or sets the object type, <c>"chat.completion"</c>.</summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string Object { get => field ?? string.Empty; set; }

    // The largest Unix time DateTimeOffset holds (9999-12-31T23:59:59Z), in seconds and in milliseconds.
    private const long MaxUnixSeconds = 253_402_300_799;
    private const long MaxUnixMilliseconds = 253_402_300_799_999;

    /// <summary>Gets or sets when the completion was created, in seconds since the Unix epoch.</summary>
    [JsonConverter(typeof(NullAsZeroInt64Converter))]
    public long Created { get; set; }

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

    /// <summary>Gets or sets the model that answered, which may name a dated snapshot of the model requested.</summary>
    [JsonConverter(typeof(RecentStringConverter))]
    public string Model { get => field ?? string.Empty; set; }

    /// <summary>Gets or sets the answers; one unless the request asked for more with <see cref="ChatCompletionRequest.N"/>.</summary>
    public IReadOnlyList<ChatChoice> Choices { get => field ?? []; set; }

    /// <summary>Gets or sets the tokens the call used, or <see langword="null"/> when the server did not say.</summary>
    public ChatUsage? Usage { get; set; }

    /// <summary>Gets or sets the fingerprint of the backend configuration, which changes when a deterministic <see cref="ChatCompletionRequest.Seed"/> may give different results.</summary>
    [JsonConverter(typeof(RecentStringConverter))]
    public string? SystemFingerprint { get; set; }

    /// <summary>Gets or sets the processing tier that served the request, for example <c>"default"</c> or <c>"flex"</c>.</summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string? ServiceTier { get; set; }

    /// <summary>Gets the id the server gave the HTTP request (its <c>x-request-id</c> header), for support tickets and logs; not part of the JSON.</summary>
    [JsonIgnore]
    public string? RequestId { get; internal set; }

    /// <summary>Gets the first choice's text, or <see langword="null"/> when there is none (for example when the model only called tools).</summary>
    [JsonIgnore]
    public string? Content => Choices is { Count: > 0 } choices ? choices[0].Message.Content : null;

    /// <summary>Gets why the first choice ended (<c>"stop"</c>, <c>"length"</c>, <c>"tool_calls"</c>, <c>"content_filter"</c>), or <see langword="null"/>.</summary>
    [JsonIgnore]
    public string? FinishReason => Choices is { Count: > 0 } choices ? choices[0].FinishReason : null;
}
