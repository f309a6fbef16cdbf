namespace LlmResilience.Testing;

/// <summary>A complete, non-streamed answer.</summary>
/// <param name="StatusCode">The HTTP status code.</param>
/// <param name="ContentType">The <c>Content-Type</c> header.</param>
/// <param name="Body">The body bytes.</param>
/// <param name="Headers">Extra headers, set last so they override the defaults.</param>
/// <param name="OpenAiHeaders">Whether to send <c>x-request-id</c>, <c>openai-processing-ms</c> and <c>openai-version</c>.</param>
internal sealed record CannedResponse(
    int StatusCode,
    string ContentType,
    byte[] Body,
    IReadOnlyDictionary<string, string>? Headers = null,
    bool OpenAiHeaders = true);
