namespace LlmResilience;

/// <summary>How an endpoint appears in logs and messages: scheme, host, port and path, never the query (which some gateways use for keys).</summary>
internal static class Endpoints
{
    public static string Describe(Uri? uri) => uri is null ? "(no address)" : uri.IsAbsoluteUri ? uri.GetLeftPart(UriPartial.Path) : uri.OriginalString;
}

/// <summary>Marks request content that can be sent again as it is (it re-serializes from memory on every send).</summary>
internal interface IReplayableContent
{
}
