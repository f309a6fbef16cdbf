using System.Security.Cryptography;

namespace LlmResilience.Testing;

/// <summary>Identifiers shaped like the real API's: <c>chatcmpl-…</c> completions, <c>req_…</c> request ids, Cloudflare ray ids.</summary>
internal static class Ids
{
    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A completion id such as <c>chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT</c> (29 characters after the prefix).</summary>
    public static string NewCompletionId() => "chatcmpl-" + RandomNumberGenerator.GetString(Alphanumerics, 29);

    /// <summary>A tool call id such as <c>call_Xb2k…</c> (24 characters after the prefix).</summary>
    public static string NewToolCallId() => "call_" + RandomNumberGenerator.GetString(Alphanumerics, 24);

    /// <summary>A request id such as <c>req_5f0a…</c> (32 lowercase hex digits), the value of <c>x-request-id</c>.</summary>
    public static string NewRequestId() => "req_" + RandomNumberGenerator.GetHexString(32, lowercase: true);

    /// <summary>A Cloudflare ray id such as <c>8f1c2d3e4a5b6c7d-SJC</c>, the value of <c>cf-ray</c>.</summary>
    public static string NewCloudflareRayId() => RandomNumberGenerator.GetHexString(16, lowercase: true) + "-SJC";
}
