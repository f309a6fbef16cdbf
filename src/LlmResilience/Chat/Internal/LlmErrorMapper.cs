using System.Net;
using System.Text;

namespace LlmResilience;

/// <summary>
/// Turns an error response into the <see cref="LlmException"/> the caller sees: what kind of failure it is, and a
/// message that says what happened and what to do. The API key is scrubbed from anything the server echoed.
/// </summary>
internal static class LlmErrorMapper
{
    private const int MaxQuotedChars = 300;

    public static async Task<LlmException> FromResponseAsync(HttpResponseMessage response, HttpRequestMessage request, LlmResilienceOptions options,
        string? apiKey, CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            body = [];
        }

        request.Options.TryGetValue(CallReport.Key, out var report);
        var retryAfter = report?.RetryAfter ?? ServerRetryHints.GetRetryAfter(response.Headers, (int)response.StatusCode, TimeProvider.System.GetUtcNow());
        return Create(response, body, report, retryAfter, options, apiKey);
    }

    public static LlmException Create(HttpResponseMessage response, ReadOnlySpan<byte> body, CallReport? report, TimeSpan? retryAfter,
        LlmResilienceOptions options, string? apiKey)
    {
        var status = (int)response.StatusCode;
        var hasError = OpenAiErrorBody.TryParse(body, out var error);
        var server = response.Headers.NonValidated.TryGetValues("server", out var serverValues) ? serverValues.ToString() : null;
        var endpoint = Endpoints.Describe(response.RequestMessage?.RequestUri);
        var attempts = report?.Attempts ?? 1;
        var kind = Classify(status, hasError ? error : null, body, server);
        var code = error.Code ?? error.Type;
        var said = hasError && !string.IsNullOrWhiteSpace(error.Message) ? Quote(error.Message!, apiKey) : Quote(FirstLine(body), apiKey);
        var tag = code is null ? $"HTTP {status}" : $"HTTP {status} {code}";
        var tried = attempts == 1 ? "on the only attempt" : $"on all {attempts} attempts";

        var message = kind switch
        {
            LlmFailureKind.RateLimited when report?.StopReason == RetryStopReason.RetryAfterTooLong =>
                $"{endpoint} is rate limiting this client ({tag}) and asked to wait {retryAfter}, longer than MaxRetryAfter ({options.MaxRetryAfter}), so the call failed at once instead of sleeping. Wait that long before calling again, lower your request rate, or raise LlmResilienceOptions.MaxRetryAfter.",
            LlmFailureKind.RateLimited when report?.StopReason == RetryStopReason.WouldOutliveTotalTimeout =>
                $"{endpoint} is rate limiting this client ({tag}); the wait it asked for ({retryAfter}) would have outlived TotalTimeout ({options.TotalTimeout}). Lower your request rate or concurrency.",
            LlmFailureKind.RateLimited =>
                $"{endpoint} rate limited the call ({tag}) {tried}. Lower your request rate or concurrency, or raise MaxRetryAttempts. Server said: {said}",
            LlmFailureKind.QuotaExceeded =>
                $"The account behind this API key has no quota left ({tag}): add credit or raise its spending limit. Retrying will not help. Server said: {said}",
            LlmFailureKind.Unauthorized =>
                $"{endpoint} rejected the credentials ({tag}). Check LlmClientOptions.ApiKey (or the {LlmClientOptions.ApiKeyEnvironmentVariable} environment variable) and that the key may use this model. Server said: {said}",
            LlmFailureKind.ContextLengthExceeded =>
                $"The messages plus the requested completion exceed the model's context window ({tag}). Shorten or summarize the conversation, or lower MaxTokens / MaxCompletionTokens. Server said: {said}",
            LlmFailureKind.BadRequest =>
                $"{endpoint} rejected the request as invalid ({tag}). Fix the request; retrying will not help. Server said: {said}",
            LlmFailureKind.ProxyUpstreamFailure =>
                $"A proxy or gateway{(server is null ? string.Empty : $" ({server})")} in front of the model could not get an answer from it (HTTP {status}) {tried}: \"{said}\". Check the proxy's upstream and idle timeouts (Envoy route timeout, nginx proxy_read_timeout, Cloudflare's 100-second limit: stream long completions) and the upstream's health.",
            LlmFailureKind.Timeout =>
                $"{endpoint} timed out the request ({tag}) {tried}. Retry later, or ask for a shorter completion. Server said: {said}",
            _ =>
                $"{endpoint} failed ({tag}) {tried}. The provider is having trouble; retry later. Server said: {said}",
        };

        if (kind != LlmFailureKind.RateLimited && report?.StopReason is RetryStopReason.RetryAfterTooLong)
        {
            message += $" The server asked to wait {retryAfter} before retrying, longer than MaxRetryAfter ({options.MaxRetryAfter}), so the call failed at once.";
        }

        if (report?.StopReason == RetryStopReason.ServerSaidDoNotRetry)
        {
            message += " (The server sent x-should-retry: false, so it was not retried.)";
        }

        return new LlmException(kind, message, null, response.StatusCode)
        {
            ErrorCode = code,
            RequestId = response.Headers.NonValidated.TryGetValues("x-request-id", out var ids) ? ids.ToString() : null,
            RetryAfter = retryAfter,
            Attempts = attempts,
        };
    }

    internal static LlmFailureKind Classify(int status, OpenAiError? error, ReadOnlySpan<byte> body, string? server)
    {
        var code = error?.Code;
        var type = error?.Type;
        switch (status)
        {
            case 401 or 403:
                return LlmFailureKind.Unauthorized;
            case 429:
                return code is "insufficient_quota" || type is "insufficient_quota" ? LlmFailureKind.QuotaExceeded : LlmFailureKind.RateLimited;
            case 408:
                return LlmFailureKind.Timeout;
            case 502 or 503 or 504 or (>= 520 and <= 524):
                return error is null || IsProxy(server) || LooksLikeProxyBody(body) ? LlmFailureKind.ProxyUpstreamFailure : LlmFailureKind.ServerError;
            case >= 500:
                return LlmFailureKind.ServerError;
            case >= 400:
                return code is "context_length_exceeded" || (error?.Message?.Contains("maximum context length", StringComparison.OrdinalIgnoreCase) ?? false)
                    ? LlmFailureKind.ContextLengthExceeded
                    : LlmFailureKind.BadRequest;
            default:
                return LlmFailureKind.InvalidResponse;
        }
    }

    private static bool IsProxy(string? server) =>
        server is not null && (server.Contains("envoy", StringComparison.OrdinalIgnoreCase) || server.Contains("nginx", StringComparison.OrdinalIgnoreCase)
            || server.Contains("cloudflare", StringComparison.OrdinalIgnoreCase) || server.Contains("awselb", StringComparison.OrdinalIgnoreCase));

    private static bool LooksLikeProxyBody(ReadOnlySpan<byte> body) =>
        body.IndexOf("upstream connect error"u8) >= 0 || body.IndexOf("no healthy upstream"u8) >= 0 || body.IndexOf("<html"u8) >= 0;

    private static string FirstLine(ReadOnlySpan<byte> body)
    {
        if (body.Length == 0)
        {
            return "(empty body)";
        }

        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 4 * MaxQuotedChars)]);
        var title = text.IndexOf("<title>", StringComparison.OrdinalIgnoreCase);
        if (title >= 0)
        {
            var end = text.IndexOf("</title>", title, StringComparison.OrdinalIgnoreCase);
            return end > title ? text[(title + 7)..end] : text[(title + 7)..];
        }

        var newline = text.IndexOfAny(['\r', '\n']);
        return newline > 0 ? text[..newline] : text;
    }

    private static string Quote(string text, string? apiKey)
    {
        if (!string.IsNullOrEmpty(apiKey) && text.Contains(apiKey, StringComparison.Ordinal))
        {
            text = text.Replace(apiKey, "[redacted]", StringComparison.Ordinal);
        }

        return text.Length <= MaxQuotedChars ? text : string.Concat(text.AsSpan(0, MaxQuotedChars), "…");
    }
}
