namespace LlmResilience;

/// <summary>Copies a response's content headers onto the content that replaces it (buffered, guarded or decompressed).</summary>
internal static class ContentHeaders
{
    /// <summary>Copies every content header of <paramref name="source"/> but the two named, as raw strings: nothing is parsed.</summary>
    public static void Copy(HttpContent source, HttpContent target, string? except = null, string? alsoExcept = null)
    {
        var headers = target.Headers;
        foreach (var header in source.Headers.NonValidated)
        {
            if ((except is not null && header.Key.Equals(except, StringComparison.OrdinalIgnoreCase))
                || (alsoExcept is not null && header.Key.Equals(alsoExcept, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            // One value, the usual case, goes in as the stored string; the enumerable overload would box the values.
            var values = header.Value;
            _ = values.Count == 1
                ? headers.TryAddWithoutValidation(header.Key, values.ToString())
                : headers.TryAddWithoutValidation(header.Key, values);
        }
    }
}
