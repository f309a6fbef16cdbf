using System.Globalization;
using System.Net;
using System.Text;

namespace LlmResilience.Doctor.Diagnosis.Probes;

/// <summary>
/// Asks the proxy for a tunnel (<c>CONNECT host:443</c>), as SocketsHttpHandler does for an https:// address, so the TLS
/// step can look at the API's own certificate through it.
/// </summary>
internal static class TunnelProbe
{
    private const int MaxHeaderBytes = 16 * 1024;

    /// <returns>Whether the proxy opened the tunnel (a finding says why not).</returns>
    public static async Task<bool> RunAsync(DiagnosisContext context, Stream stream, Uri proxy, string proxyText, Uri target, CancellationToken cancellationToken)
    {
        var authority = $"{target.IdnHost}:{target.Port.ToString(CultureInfo.InvariantCulture)}";
        context.Progress.Starting($"Asking {proxyText} for a tunnel to {authority}");
        var request = new StringBuilder($"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if (context.Settings.Proxy?.Credentials?.GetCredential(proxy, "Basic") is { UserName.Length: > 0 } credential)
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.UserName}:{credential.Password}"));
            request.Append("Proxy-Authorization: Basic ").Append(token).Append("\r\n");
        }

        request.Append("\r\n");
        var start = context.Now();
        using var deadline = context.Deadline(context.Settings.ConnectTimeout, cancellationToken);
        string? statusLine;
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), deadline.Token).ConfigureAwait(false);
            statusLine = await ReadStatusLineAsync(stream, deadline.Token).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            return Rejected(context, start, proxyText, $"it closed the connection ({e.InnerException?.Message ?? e.Message})");
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            return Rejected(context, start, proxyText, $"no answer to CONNECT within {Findings.Ms(context.Settings.ConnectTimeout)}");
        }

        if (statusLine is null)
        {
            return Rejected(context, start, proxyText, "it closed the connection without answering CONNECT");
        }

        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            return Rejected(context, start, proxyText, $"it answered CONNECT with '{statusLine}', not HTTP");
        }

        if (status is >= 200 and < 300)
        {
            context.Step("Proxy tunnel", StepOutcome.Ok, context.Since(start), $"{proxyText} opened a tunnel to {authority}", statusLine);
            return true;
        }

        context.Step("Proxy tunnel", StepOutcome.Failed, context.Since(start), $"{proxyText} answered CONNECT {authority} with {statusLine}");
        context.Report.Add(status is 502 or 503 or 504
            ? Findings.UpstreamError(status, $"The proxy {proxyText}", null)
            : Findings.ProxyRejected(proxyText, $"it answered CONNECT {authority} with '{statusLine}'"));
        return false;
    }

    private static bool Rejected(DiagnosisContext context, long start, string proxyText, string what)
    {
        context.Step("Proxy tunnel", StepOutcome.Failed, context.Since(start), what);
        context.Report.Add(Findings.ProxyRejected(proxyText, what));
        return false;
    }

    /// <summary>Reads the proxy's answer up to the blank line (nothing follows it until we send the ClientHello) and returns its status line.</summary>
    private static async Task<string?> ReadStatusLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxHeaderBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length, 1), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return length == 0 ? null : FirstLine(buffer, length);
            }

            length += read;
            if (length >= 4 && buffer.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8))
            {
                return FirstLine(buffer, length);
            }
        }

        return FirstLine(buffer, length);
    }

    private static string FirstLine(byte[] buffer, int length)
    {
        var text = Encoding.ASCII.GetString(buffer, 0, length);
        var end = text.IndexOf('\r', StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }

    /// <summary>The address of the proxy HttpClient would use for <paramref name="target"/>, or <see langword="null"/> for a direct connection.</summary>
    public static Uri? ProxyFor(IWebProxy? proxy, Uri target)
    {
        if (proxy is null || proxy.IsBypassed(target))
        {
            return null;
        }

        var address = proxy.GetProxy(target);
        return address is null || address == target ? null : address;
    }
}
