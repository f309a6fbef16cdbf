using System.Text.RegularExpressions;

namespace LlmResilience;

/// <summary>
/// How an endpoint appears in logs, messages and <see cref="LlmClientOptions.ToString"/>: scheme, host, port and path,
/// never the query (which some gateways use for keys) nor the user name and password of
/// <c>https://user:password@host/</c> (which would otherwise be printed with every retry).
/// </summary>
internal static partial class Endpoints
{
    public static string Describe(Uri? uri) => uri switch
    {
        null => "(no address)",
        // GetComponents without UserInfo, Query and Fragment; GetLeftPart(Path) would keep the user info.
        { IsAbsoluteUri: true, Host.Length: > 0 } => uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped),
        // Relative or host-less addresses (only seen in validation messages, for a mistyped BaseAddress such as
        // "user:secret@host/v1/", which parses as scheme "user") are cut by hand.
        _ => DescribeText(uri.OriginalString),
    };

    /// <summary>Cuts <c>user:password@</c> out of every address in <paramref name="text"/> (an exception message that quotes a proxy, say).</summary>
    /// <returns><paramref name="text"/> itself when it has none.</returns>
    public static string StripUserInfo(string text) => text.Contains('@', StringComparison.Ordinal) && UserInfo().IsMatch(text) ? UserInfo().Replace(text, "://") : text;

    [GeneratedRegex(@"://[^/@\s'""]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfo();

    private static string DescribeText(string text)
    {
        var end = text.AsSpan().IndexOfAny('?', '#');
        var shown = end < 0 ? text.AsSpan() : text.AsSpan(0, end);
        var at = shown.LastIndexOf('@');
        return at < 0 ? shown.ToString() : string.Concat("***@", shown[(at + 1)..]);
    }
}

/// <summary>Marks request content that can be sent again as it is (it re-serializes from memory on every send).</summary>
internal interface IReplayableContent
{
}
