namespace LlmResilience;

/// <summary>
/// Builds each attempt's request from the call's template, for the attempt's endpoint: a fresh message every time,
/// so that whatever a handler below us added to an earlier attempt (an <c>api-key</c>, a correlation header) is not
/// sent twice, and the caller's own message is never touched.
/// </summary>
internal static class AttemptMessage
{
    /// <param name="call">The call whose template is copied.</param>
    /// <param name="endpoint">Where the attempt goes.</param>
    /// <param name="credential">The endpoint's credential header value for this attempt, or <see langword="null"/> to keep the caller's.</param>
    public static AttemptRequestMessage Create(LlmCall call, EndpointTarget endpoint, string? credential)
    {
        var template = call.Template!;
        var message = new AttemptRequestMessage(template.Method, endpoint.RebaseCached(template.RequestUri, call.OriginBase))
        {
            Version = template.Version,
            VersionPolicy = template.VersionPolicy,
            // Shared by every attempt: replayable (see LlmResilienceHandler.SendAsync), never disposed by a send.
            Content = call.ContentFor(endpoint.Model),
        };

        var headers = message.Headers;
        foreach (var header in template.Headers.NonValidated)
        {
            // An endpoint with a credential of its own: the caller's (under whichever header) never goes with it.
            if (credential is not null && (string.Equals(header.Key, EndpointTarget.AuthorizationHeader, StringComparison.OrdinalIgnoreCase)
                || string.Equals(header.Key, EndpointTarget.ApiKeyHeader, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var values = header.Value;
            if (values.Count == 1)
            {
                headers.TryAddWithoutValidation(header.Key, values.ToString());
            }
            else
            {
                headers.TryAddWithoutValidation(header.Key, values);
            }
        }

        if (credential is not null)
        {
            headers.TryAddWithoutValidation(endpoint.CredentialHeader!, credential);
        }

        // The caller's options travel to the handlers below. The typed client's requests have none: skip the
        // enumeration (a boxed enumerator) for them.
        var templateOptions = (IDictionary<string, object?>)template.Options;
        if (templateOptions.Count == 0)
        {
            return message;
        }

        foreach (var option in templateOptions)
        {
            ((IDictionary<string, object?>)message.Options)[option.Key] = option.Value;
        }

        return message;
    }

    /// <summary>
    /// The template's address re-rooted from <paramref name="origin"/> on <paramref name="target"/>, or as it is when
    /// there is nothing to re-root. The target's query (Azure's <c>api-version</c>) is kept; the origin's is not carried over.
    /// </summary>
    internal static Uri? Rebase(Uri? uri, Uri? origin, Uri? target)
    {
        if (target is null || origin is null || uri is null || !uri.IsAbsoluteUri)
        {
            return uri;
        }

        var path = uri.GetLeftPart(UriPartial.Path);
        var prefix = origin.GetLeftPart(UriPartial.Path);
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return uri;
        }

        var query = target.Query.Length > 0 ? target.Query : string.Equals(uri.Query, origin.Query, StringComparison.Ordinal) ? string.Empty : uri.Query;
        return new Uri(string.Concat(target.GetLeftPart(UriPartial.Path), path.AsSpan(prefix.Length), query));
    }
}
