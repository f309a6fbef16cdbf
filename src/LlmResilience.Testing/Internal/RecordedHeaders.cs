using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace LlmResilience.Testing;

/// <summary>
/// Copies the headers of a request for its <see cref="RecordedRequest"/> with the API key taken out: the credentials of
/// <c>Authorization</c> and the value of <c>api-key</c> (Azure OpenAI) read <c>[redacted]</c>, so that printing or logging
/// <see cref="RecordedRequest.Headers"/> never shows a key. The key itself is handed back apart, for
/// <see cref="RecordedRequest.SentApiKey"/>.
/// </summary>
internal static class RecordedHeaders
{
    /// <summary>What a redacted credential reads.</summary>
    public const string Redacted = "[redacted]";

    /// <summary>The header Azure OpenAI reads the key from.</summary>
    public const string ApiKey = "api-key";

    private const string BearerScheme = "Bearer ";

    /// <summary>
    /// Copies <paramref name="headers"/>: names case-insensitive, repeated values joined with <c>", "</c>, credentials redacted.
    /// </summary>
    /// <returns>The copy, the token of <c>Authorization: Bearer …</c> and the value of <c>api-key</c>, as sent (or null).</returns>
    public static (Dictionary<string, string> Headers, string? BearerToken, string? ApiKeyValue) Copy(IHeaderDictionary headers)
    {
        var copy = new Dictionary<string, string>(headers.Count, StringComparer.OrdinalIgnoreCase);
        string? bearerToken = null;
        string? apiKeyValue = null;
        foreach (var (name, values) in headers)
        {
            var value = string.Join(", ", (IEnumerable<string?>)values);
            if (value.Length > 0 && string.Equals(name, HeaderNames.Authorization, StringComparison.OrdinalIgnoreCase))
            {
                bearerToken = BearerToken(value);
                value = RedactCredentials(value);
            }
            else if (value.Length > 0 && string.Equals(name, ApiKey, StringComparison.OrdinalIgnoreCase))
            {
                apiKeyValue = value;
                value = Redacted;
            }

            copy[name] = value;
        }

        return (copy, bearerToken, apiKeyValue);
    }

    /// <summary>The token of an <c>Authorization: Bearer …</c> value, or <see langword="null"/> for another scheme.</summary>
    public static string? BearerToken(string authorization) =>
        authorization.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase) ? authorization[BearerScheme.Length..].Trim() : null;

    /// <summary>Keeps the scheme of an <c>Authorization</c> value (<c>Bearer [redacted]</c>), never its credentials.</summary>
    private static string RedactCredentials(string authorization)
    {
        var space = authorization.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 ? string.Concat(authorization.AsSpan(0, space + 1), Redacted) : Redacted;
    }
}
