using System.Text.RegularExpressions;

namespace LlmResilience;

/// <summary>How an endpoint appears in logs and messages: scheme, host, port and path, never the query (which some gateways use for keys).</summary>
internal static partial class Endpoints
{
    public static string Describe(Uri? uri) => uri is null ? "(no address)" : uri.IsAbsoluteUri ? uri.GetLeftPart(UriPartial.Path) : uri.OriginalString;

    /// <summary>Cuts <c>user:password@</c> out of every address in <paramref name="text"/> (an exception message that quotes a proxy, say).</summary>
    /// <returns><paramref name="text"/> itself when it has none.</returns>
    public static string StripUserInfo(string text) => text.Contains('@', StringComparison.Ordinal) && UserInfo().IsMatch(text) ? UserInfo().Replace(text, "://") : text;

    [GeneratedRegex(@"://[^/@\s'""]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfo();
}

/// <summary>Marks request content that can be sent again as it is (it re-serializes from memory on every send).</summary>
internal interface IReplayableContent
{
}
