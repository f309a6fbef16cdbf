namespace LlmResilience;

/// <summary>
/// Builds each attempt's request from the call's template, for the attempt's endpoint: a fresh message every time,
/// so that whatever a handler below us added to an earlier attempt (an <c>api-key</c>, a correlation header) is not
/// sent twice, and the caller's own message is never touched.
/// </summary>
internal static class AttemptMessage
{
    private const string Authorization = "Authorization";

    public static HttpRequestMessage Create(LlmCall call, EndpointTarget endpoint)
    {
        var template = call.Template!;
        var message = new HttpRequestMessage(template.Method, Rebase(template.RequestUri, call.OriginBase, endpoint.BaseAddress))
        {
            Version = template.Version,
            VersionPolicy = template.VersionPolicy,
            // Shared by every attempt: replayable (see LlmResilienceHandler.SendAsync), never disposed by a send.
            Content = call.ContentFor(endpoint.Model),
        };

        var headers = message.Headers;
        foreach (var header in template.Headers.NonValidated)
        {
            if (endpoint.Authorization is not null && string.Equals(header.Key, Authorization, StringComparison.OrdinalIgnoreCase))
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

        if (endpoint.Authorization is not null)
        {
            headers.TryAddWithoutValidation(Authorization, endpoint.Authorization);
        }

        // The caller's options travel to the handlers below (the call itself need not: it stays with the pipeline). The
        // typed client's requests carry only the call: skip the enumeration (a boxed enumerator) for them.
        var templateOptions = (IDictionary<string, object?>)template.Options;
        if (templateOptions.Count == 0 || (templateOptions.Count == 1 && templateOptions.ContainsKey(LlmCall.OptionsKey.Key)))
        {
            return message;
        }

        foreach (var option in templateOptions)
        {
            if (option.Key != LlmCall.OptionsKey.Key)
            {
                ((IDictionary<string, object?>)message.Options)[option.Key] = option.Value;
            }
        }

        return message;
    }

    /// <summary>The template's address re-rooted from <paramref name="origin"/> on <paramref name="target"/>, or as it is when there is nothing to re-root.</summary>
    internal static Uri? Rebase(Uri? uri, Uri? origin, Uri? target)
    {
        if (target is null || origin is null || uri is null || !uri.IsAbsoluteUri)
        {
            return uri;
        }

        var text = uri.AbsoluteUri;
        var prefix = origin.AbsoluteUri;
        return text.StartsWith(prefix, StringComparison.Ordinal) ? new Uri(target, text[prefix.Length..]) : uri;
    }
}
