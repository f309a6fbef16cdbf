using System.Net.Http.Headers;

namespace LlmResilience;

/// <summary>
/// The raw <c>x-ratelimit-*</c> headers of one response (OpenAI, Azure OpenAI and most gateways send them on every
/// answer), kept per attempt for pacing and telemetry. Raw strings: they are parsed by whoever needs them.
/// </summary>
internal sealed class RateLimitHeaders
{
    private const string Prefix = "x-ratelimit-";

    public string? LimitRequests { get; private set; }
    public string? LimitTokens { get; private set; }
    public string? RemainingRequests { get; private set; }
    public string? RemainingTokens { get; private set; }
    public string? ResetRequests { get; private set; }
    public string? ResetTokens { get; private set; }

    /// <summary>The rate-limit headers of <paramref name="headers"/>, or <see langword="null"/> (allocating nothing) when it has none.</summary>
    public static RateLimitHeaders? TryRead(HttpResponseHeaders headers)
    {
        RateLimitHeaders? found = null;
        foreach (var header in headers.NonValidated)
        {
            if (!header.Key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            found ??= new RateLimitHeaders();
            var value = header.Value.ToString();
            var name = header.Key.AsSpan(Prefix.Length);
            if (name.Equals("limit-requests", StringComparison.OrdinalIgnoreCase))
            {
                found.LimitRequests = value;
            }
            else if (name.Equals("limit-tokens", StringComparison.OrdinalIgnoreCase))
            {
                found.LimitTokens = value;
            }
            else if (name.Equals("remaining-requests", StringComparison.OrdinalIgnoreCase))
            {
                found.RemainingRequests = value;
            }
            else if (name.Equals("remaining-tokens", StringComparison.OrdinalIgnoreCase))
            {
                found.RemainingTokens = value;
            }
            else if (name.Equals("reset-requests", StringComparison.OrdinalIgnoreCase))
            {
                found.ResetRequests = value;
            }
            else if (name.Equals("reset-tokens", StringComparison.OrdinalIgnoreCase))
            {
                found.ResetTokens = value;
            }
        }

        return found;
    }
}
