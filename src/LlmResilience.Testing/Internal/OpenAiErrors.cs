using System.Globalization;

namespace LlmResilience.Testing;

/// <summary>The error bodies the real API sends, message for message.</summary>
internal static class OpenAiErrors
{
    public static byte[] RateLimitExceeded(string model, IReadOnlyDictionary<string, string>? headers) => ChatCompletionJson.Error(
        $"Rate limit reached for {model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. "
            + $"Please try again in {TryAgainIn(headers)}. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "requests",
        null,
        "rate_limit_exceeded");

    public static byte[] InsufficientQuota() => ChatCompletionJson.Error(
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, "
            + "read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        null,
        "insufficient_quota");

    public static byte[] ContextLengthExceeded(int promptTokens) => ChatCompletionJson.Error(
        string.Create(
            CultureInfo.InvariantCulture,
            $"This model's maximum context length is 128000 tokens. However, your messages resulted in {128000 + Math.Max(promptTokens, 1)} tokens. Please reduce the length of the messages."),
        "invalid_request_error",
        "messages",
        "context_length_exceeded");

    /// <summary>401 <c>invalid_api_key</c>; the message masks the key the request carried, as the API does.</summary>
    public static byte[] InvalidApiKey(string? presentedKey) => ChatCompletionJson.Error(
        string.IsNullOrEmpty(presentedKey)
            ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
                + "(i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys."
            : $"Incorrect API key provided: {Mask(presentedKey)}. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        null,
        "invalid_api_key");

    public static byte[] ServerError(int statusCode) => ChatCompletionJson.Error(
        statusCode switch
        {
            500 => "The server had an error while processing your request. Sorry about that!",
            503 => "The server is overloaded or not ready yet.",
            _ => "The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error.",
        },
        "server_error",
        null,
        null);

    private static string Mask(string key) =>
        key.Length <= 8 ? new string('*', key.Length) : string.Concat(key.AsSpan(0, 3), new string('*', key.Length - 7), key.AsSpan(key.Length - 4));

    /// <summary>The API's "Please try again in 20s" agrees with the hints sent beside it; without hints it says 1s.</summary>
    private static string TryAgainIn(IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is null)
        {
            return "1s";
        }

        foreach (var (name, value) in headers)
        {
            if (string.Equals(name, "retry-after-ms", StringComparison.OrdinalIgnoreCase)
                && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            {
                return string.Create(CultureInfo.InvariantCulture, $"{ms:0.###}ms");
            }
        }

        foreach (var (name, value) in headers)
        {
            if (string.Equals(name, "Retry-After", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
            {
                return string.Create(CultureInfo.InvariantCulture, $"{seconds}s");
            }
        }

        return "1s";
    }
}
