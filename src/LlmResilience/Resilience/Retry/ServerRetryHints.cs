using System.Globalization;
using System.Net.Http.Headers;

namespace LlmResilience;

/// <summary>
/// Reads the wait a server asks for out of a response's headers. In order of precedence: <c>retry-after-ms</c>
/// (OpenAI) or <c>x-ms-retry-after-ms</c> (Azure OpenAI), <c>Retry-After</c> (delta-seconds or HTTP-date, RFC 9110),
/// and, on a 429 that carries neither, the <c>x-ratelimit-reset-requests</c> / <c>x-ratelimit-reset-tokens</c>
/// whose budget ran out (OpenAI's Go-style durations such as <c>6m0s</c>). Garbage and negative values are ignored,
/// so the caller falls back to its own backoff.
/// </summary>
internal static class ServerRetryHints
{
    public const string RetryAfterMs = "retry-after-ms";
    public const string AzureRetryAfterMs = "x-ms-retry-after-ms";
    public const string RetryAfter = "Retry-After";
    public const string ResetRequests = "x-ratelimit-reset-requests";
    public const string ResetTokens = "x-ratelimit-reset-tokens";
    public const string RemainingRequests = "x-ratelimit-remaining-requests";
    public const string RemainingTokens = "x-ratelimit-remaining-tokens";
    public const string ShouldRetry = "x-should-retry";

    /// <summary>The wait the server asks for, or <see langword="null"/> when it asks for none (or says nonsense).</summary>
    public static TimeSpan? GetRetryAfter(HttpResponseHeaders headers, int statusCode, DateTimeOffset now)
    {
        if (TryGet(headers, RetryAfterMs, out var value) || TryGet(headers, AzureRetryAfterMs, out value))
        {
            if (TryParseMilliseconds(value, out var ms))
            {
                return ms;
            }
        }

        if (TryGet(headers, RetryAfter, out value) && TryParseRetryAfter(value, now, out var retryAfter))
        {
            return retryAfter;
        }

        return statusCode == 429 ? GetRateLimitReset(headers) : null;
    }

    /// <summary>The server's <c>x-should-retry</c> verdict: <see langword="true"/>, <see langword="false"/>, or <see langword="null"/> when it gives none.</summary>
    public static bool? GetShouldRetry(HttpResponseHeaders headers)
    {
        if (!TryGet(headers, ShouldRetry, out var value))
        {
            return null;
        }

        var trimmed = value.AsSpan().Trim();
        if (trimmed.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return trimmed.Equals("false", StringComparison.OrdinalIgnoreCase) ? false : null;
    }

    /// <summary>Parses a millisecond count such as <c>1500</c> or <c>1500.5</c>.</summary>
    public static bool TryParseMilliseconds(string value, out TimeSpan delay)
    {
        delay = default;
        if (!double.TryParse(value.AsSpan().Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var ms)
            || double.IsNaN(ms) || ms < 0 || ms > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            return false;
        }

        delay = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    /// <summary>Parses <c>Retry-After</c>: delta-seconds (<c>120</c>; a decimal such as <c>1.5</c> is accepted too) or an HTTP-date, measured from <paramref name="now"/>. A date in the past means "now".</summary>
    public static bool TryParseRetryAfter(string value, DateTimeOffset now, out TimeSpan delay)
    {
        delay = default;
        var trimmed = value.AsSpan().Trim();
        if (trimmed.Length == 0)
        {
            return false;
        }

        if (char.IsAsciiDigit(trimmed[0]))
        {
            if (!double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
            {
                return false;
            }

            delay = TimeSpan.FromSeconds(seconds);
            return true;
        }

        if (RetryConditionHeaderValue.TryParse(value, out var parsed) && parsed.Date is { } date)
        {
            var wait = date - now;
            delay = wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Parses OpenAI's durations, which follow Go's <c>time.Duration</c> format: <c>20ms</c>, <c>1s</c>, <c>1.5s</c>,
    /// <c>6m0s</c>, <c>1h2m3s</c>, <c>0s</c>; units <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c>, <c>us</c>/<c>µs</c>, <c>ns</c>.
    /// </summary>
    public static bool TryParseGoDuration(string value, out TimeSpan duration)
    {
        duration = default;
        var text = value.AsSpan().Trim();
        if (text.Length == 0)
        {
            return false;
        }

        if (text is "0")
        {
            return true;
        }

        double totalMs = 0;
        while (text.Length > 0)
        {
            var numberLength = 0;
            while (numberLength < text.Length && (char.IsAsciiDigit(text[numberLength]) || text[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0
                || !double.TryParse(text[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            text = text[numberLength..];
            var unitLength = 0;
            while (unitLength < text.Length && !char.IsAsciiDigit(text[unitLength]) && text[unitLength] != '.')
            {
                unitLength++;
            }

            double unitMs = text[..unitLength] switch
            {
                "h" => 3_600_000,
                "m" => 60_000,
                "s" => 1_000,
                "ms" => 1,
                "us" or "µs" or "μs" => 0.001,
                "ns" => 0.000_001,
                _ => -1,
            };
            if (unitMs < 0)
            {
                return false;
            }

            totalMs += number * unitMs;
            text = text[unitLength..];
        }

        if (totalMs > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }

    // A 429 without Retry-After: wait for whichever budget ran out. When the remaining-* headers do not say which
    // (or both ran out), the longer reset is the one that guarantees the next attempt is admitted.
    private static TimeSpan? GetRateLimitReset(HttpResponseHeaders headers)
    {
        var requests = ReadDuration(headers, ResetRequests);
        var tokens = ReadDuration(headers, ResetTokens);
        if (requests is null && tokens is null)
        {
            return null;
        }

        var requestsOut = IsZero(headers, RemainingRequests);
        var tokensOut = IsZero(headers, RemainingTokens);
        if (requestsOut && !tokensOut && requests is not null)
        {
            return requests;
        }

        if (tokensOut && !requestsOut && tokens is not null)
        {
            return tokens;
        }

        return requests is null ? tokens : tokens is null ? requests : (requests > tokens ? requests : tokens);
    }

    private static TimeSpan? ReadDuration(HttpResponseHeaders headers, string name) =>
        TryGet(headers, name, out var value) && TryParseGoDuration(value, out var duration) ? duration : null;

    private static bool IsZero(HttpResponseHeaders headers, string name) =>
        TryGet(headers, name, out var value) && value.AsSpan().Trim() is "0";

    private static bool TryGet(HttpResponseHeaders headers, string name, out string value)
    {
        if (headers.NonValidated.TryGetValues(name, out var values))
        {
            foreach (var v in values)
            {
                value = v;
                return true;
            }
        }

        value = string.Empty;
        return false;
    }
}
