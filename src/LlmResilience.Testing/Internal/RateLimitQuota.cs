using System.Globalization;
using System.Text.Json;

namespace LlmResilience.Testing;

/// <summary>
/// The server side of a provider's rate limit: requests and tokens per minute, enforced over a short window as
/// providers do (a bucket that holds <see cref="FakeLlmServerOptions.RateLimitWindow"/>'s share of the minute and
/// refills continuously), announced on every answer with OpenAI's <c>x-ratelimit-*</c> headers, and refused with a 429
/// <c>rate_limit_exceeded</c> past it. A request costs one request and (body bytes / 4 + <c>max_tokens</c>, or 16) tokens.
/// </summary>
internal sealed class RateLimitQuota(int? requestsPerMinute, int? tokensPerMinute, TimeSpan window, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Bucket? _requests = requestsPerMinute is { } rpm ? new Bucket(rpm, window, time) : null;
    private readonly Bucket? _tokens = tokensPerMinute is { } tpm ? new Bucket(tpm, window, time) : null;

    /// <summary>Takes the request's cost when there is room; writes the headers either way.</summary>
    public bool TryAdmit(string body, IDictionary<string, string> headers)
    {
        var cost = Cost(body);
        lock (_lock)
        {
            var admitted = (_requests?.HasRoom(1) ?? true) && (_tokens?.HasRoom(cost) ?? true);
            if (admitted)
            {
                _requests?.Take(1);
                _tokens?.Take(cost);
            }

            _requests?.WriteHeaders("requests", headers);
            _tokens?.WriteHeaders("tokens", headers);
            return admitted;
        }
    }

    private static double Cost(string body)
    {
        var output = 16;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && (document.RootElement.TryGetProperty("max_completion_tokens", out var max) || document.RootElement.TryGetProperty("max_tokens", out max))
                && max.TryGetInt32(out var value))
            {
                output = value;
            }
        }
        catch (JsonException)
        {
        }

        return (System.Text.Encoding.UTF8.GetByteCount(body) + 3) / 4 + output;
    }

    private sealed class Bucket(int perMinute, TimeSpan window, TimeProvider time)
    {
        private readonly double _capacity = Math.Max(1, perMinute / 60.0 * window.TotalSeconds);
        private readonly double _perSecond = perMinute / 60.0;
        private double _level = Math.Max(1, perMinute / 60.0 * window.TotalSeconds);
        private long _at = time.GetTimestamp();

        public bool HasRoom(double cost)
        {
            Refill();
            return _level >= Math.Min(cost, _capacity);
        }

        public void Take(double cost) => _level -= Math.Min(cost, _capacity);

        public void WriteHeaders(string what, IDictionary<string, string> headers)
        {
            Refill();
            headers[$"x-ratelimit-limit-{what}"] = perMinute.ToString(CultureInfo.InvariantCulture);
            headers[$"x-ratelimit-remaining-{what}"] = ((long)Math.Max(0, Math.Floor(_level))).ToString(CultureInfo.InvariantCulture);
            var toFull = TimeSpan.FromSeconds((_capacity - _level) / _perSecond);
            headers[$"x-ratelimit-reset-{what}"] = toFull < TimeSpan.FromSeconds(1)
                ? $"{Math.Ceiling(toFull.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}ms"
                : $"{toFull.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s";
        }

        private void Refill()
        {
            var now = time.GetTimestamp();
            _level = Math.Min(_capacity, _level + (now - _at) / (double)time.TimestampFrequency * _perSecond);
            _at = now;
        }
    }
}
