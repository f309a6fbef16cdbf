using System.Net;
using System.Text.Json;

namespace LlmResilience.Doctor.Diagnosis.Probes;

/// <summary>What one HTTP call saw: the status and headers that matter, the start of the body, and its timings.</summary>
internal sealed record ApiCall(
    int Status,
    string Reason,
    Version Version,
    TimeSpan FirstByte,
    TimeSpan Total,
    string? ContentType,
    string Body,
    IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The first of the headers that carry a request id (OpenAI, Azure, Cloudflare).</summary>
    public string? RequestId =>
        Header("x-request-id") ?? Header("request-id") ?? Header("apim-request-id") ?? Header("x-ms-request-id") ?? Header("cf-ray");

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public bool IsJson => ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true;

    public bool IsHtml => ContentType?.Contains("html", StringComparison.OrdinalIgnoreCase) == true
        || Body.TrimStart().StartsWith('<');

    /// <summary>The <c>error.code</c> (or <c>type</c>) and <c>error.message</c> of an OpenAI error body, when it is one.</summary>
    public (string? Code, string? Message) Error()
    {
        try
        {
            using var document = JsonDocument.Parse(Body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var code = Text(error, "code") ?? Text(error, "type");
                return (code, Text(error, "message"));
            }
        }
        catch (JsonException)
        {
        }

        return (null, null);
    }

    /// <summary>The rate-limit headers the API sent, as "name: value".</summary>
    public IEnumerable<string> RateLimitHeaders() => Headers
        .Where(h => h.Key.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase)
            || h.Key is "retry-after" or "retry-after-ms" or "x-ms-retry-after-ms" or "x-should-retry")
        .OrderBy(h => h.Key, StringComparer.Ordinal)
        .Select(h => $"{h.Key}: {h.Value}");

    public static async Task<ApiCall> ReadAsync(HttpResponseMessage response, TimeSpan firstByte, Func<TimeSpan> elapsed, int maxBody, CancellationToken cancellationToken)
    {
        var body = await ReadPrefixAsync(response.Content, maxBody, cancellationToken).ConfigureAwait(false);
        return From(response, firstByte, elapsed(), body);
    }

    public static ApiCall From(HttpResponseMessage response, TimeSpan firstByte, TimeSpan total, string body)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            headers[name.ToLowerInvariant()] = string.Join(", ", values);
        }

        return new ApiCall(
            (int)response.StatusCode,
            response.ReasonPhrase ?? ((HttpStatusCode)response.StatusCode).ToString(),
            response.Version,
            firstByte,
            total,
            response.Content.Headers.ContentType?.ToString(),
            body,
            headers);
    }

    private static async Task<string> ReadPrefixAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var _ = stream.ConfigureAwait(false);
        var buffer = new byte[maxBytes];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
