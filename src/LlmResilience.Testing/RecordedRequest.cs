using System.Diagnostics;

namespace LlmResilience.Testing;

/// <summary>One request that reached a <see cref="FakeLlmServer"/>, recorded before its behavior ran.</summary>
public sealed class RecordedRequest
{
    // The key as sent, kept out of every member that prints or enumerates: only SentApiKey compares against it.
    private readonly string? _bearerToken;
    private readonly string? _apiKeyValue;
    private volatile bool _clientAborted;

    internal RecordedRequest(
        int index,
        DateTimeOffset receivedAt,
        long timestamp,
        string connectionId,
        string method,
        string path,
        IReadOnlyDictionary<string, string> headers,
        string? bearerToken,
        string? apiKeyValue,
        string body,
        bool isStreaming,
        string behaviorName)
    {
        Index = index;
        ReceivedAt = receivedAt;
        Timestamp = timestamp;
        ConnectionId = connectionId;
        Method = method;
        Path = path;
        Headers = headers;
        _bearerToken = bearerToken;
        _apiKeyValue = apiKeyValue;
        Body = body;
        IsStreaming = isStreaming;
        BehaviorName = behaviorName;
    }

    /// <summary>
    /// Gets the 0-based arrival order of the request since the server started or was last <see cref="FakeLlmServer.Reset"/>:
    /// the order in which requests were received in full and took their behavior from the script.
    /// </summary>
    public int Index { get; }

    /// <summary>Gets the time the request headers were read, from <see cref="FakeLlmServerOptions.TimeProvider"/>.</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>Gets <see cref="Stopwatch.GetTimestamp"/> taken when the request headers were read.</summary>
    public long Timestamp { get; }

    /// <summary>Gets Kestrel's id of the TCP connection that carried the request: equal for requests on the same connection.</summary>
    public string ConnectionId { get; }

    /// <summary>Gets the protocol the request came over, as Kestrel names it: <c>HTTP/1.1</c> or <c>HTTP/2</c>.</summary>
    public string Protocol { get; internal init; } = "HTTP/1.1";

    /// <summary>Gets the query string with its leading <c>?</c> (such as Azure's <c>?api-version=...</c>), or an empty string.</summary>
    public string Query { get; internal init; } = string.Empty;

    /// <summary>Gets the HTTP method, for example <c>POST</c>.</summary>
    public string Method { get; }

    /// <summary>Gets the request path, for example <c>/v1/chat/completions</c>.</summary>
    public string Path { get; }

    /// <summary>
    /// Gets the request headers; keys are case-insensitive and repeated values are joined with <c>", "</c>. The API key is
    /// redacted: <c>Authorization</c> keeps only its scheme (<c>Bearer [redacted]</c>) and <c>api-key</c> reads
    /// <c>[redacted]</c>, so the headers can be printed or logged. To check the key, use <see cref="SentApiKey"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Gets the full request body as text.</summary>
    public string Body { get; }

    /// <summary>Gets a value indicating whether the request JSON had <c>"stream": true</c>.</summary>
    public bool IsStreaming { get; }

    /// <summary>Gets the <see cref="FakeBehavior.Name"/> of the behavior that answered the request, for example <c>ResetBeforeHeaders</c>.</summary>
    public string BehaviorName { get; }

    /// <summary>
    /// Gets a value indicating whether the client went away (closed its connection, or reset its HTTP/2 stream) before
    /// the request's behavior had answered in full: how a test sees that a caller's cancellation reached the server.
    /// </summary>
    /// <remarks>
    /// Set once the behavior has stopped, so poll it (a streamed answer notices the client's departure at its next
    /// write or wait). Not set when a fault behavior ended the connection itself, nor when the server was disposed.
    /// </remarks>
    public bool ClientAborted => _clientAborted;

    /// <summary>
    /// Tells whether the request carried <paramref name="expected"/> as its API key: as the token of
    /// <c>Authorization: Bearer …</c> or as the value of an <c>api-key</c> header (Azure OpenAI), compared ordinally.
    /// </summary>
    /// <param name="expected">The key the client should have sent.</param>
    /// <returns><see langword="true"/> when the request sent exactly that key.</returns>
    /// <remarks>
    /// For assertions. The key is only ever compared, never returned, so a failing assertion cannot print it; it is not
    /// in <see cref="Headers"/> (redacted there) nor in <see cref="ToString"/>.
    /// </remarks>
    public bool SentApiKey(string expected)
    {
        ArgumentException.ThrowIfNullOrEmpty(expected);
        return string.Equals(_bearerToken, expected, StringComparison.Ordinal)
            || string.Equals(_apiKeyValue, expected, StringComparison.Ordinal);
    }

    internal void MarkClientAborted() => _clientAborted = true;

    /// <summary>Gets the time between <paramref name="earlier"/> and this request, measured from their <see cref="Timestamp"/>s.</summary>
    /// <param name="earlier">A request recorded before this one.</param>
    /// <returns>The elapsed time; negative when <paramref name="earlier"/> arrived after this request.</returns>
    public TimeSpan ElapsedSince(RecordedRequest earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        return Stopwatch.GetElapsedTime(earlier.Timestamp, Timestamp);
    }

    /// <summary>
    /// Returns a one-line description such as <c>#0 POST /v1/chat/completions (stream) -&gt; Ok on connection …</c>: no
    /// headers, body or key.
    /// </summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        $"#{Index} {Method} {Path}{(IsStreaming ? " (stream)" : string.Empty)} -> {BehaviorName} on connection {ConnectionId}";
}
