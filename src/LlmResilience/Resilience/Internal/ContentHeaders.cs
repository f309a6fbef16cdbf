namespace LlmResilience;

/// <summary>Copies a response's content headers onto the content that replaces it (buffered, guarded or decompressed).</summary>
internal static class ContentHeaders
{
    /// <summary>Copies every content header of <paramref name="source"/> but the two named, as raw strings: nothing is parsed.</summary>
    public static void Copy(HttpContent source, HttpContent target, string? except = null, string? alsoExcept = null)
    {
        var headers = target.Headers;
        var sourceHeaders = source.Headers.NonValidated;
        if (sourceHeaders.Count == 2 && except == "Content-Length" && sourceHeaders.Contains("Content-Length")
            && sourceHeaders.TryGetValues("Content-Type", out var contentType))
        {
            // A JSON answer's usual pair: enumerating would format the parsed length back into a string only to skip it.
            headers.TryAddWithoutValidation("Content-Type", contentType.ToString());
            return;
        }

        foreach (var header in sourceHeaders)
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
