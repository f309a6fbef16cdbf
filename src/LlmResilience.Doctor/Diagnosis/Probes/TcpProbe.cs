using System.Net;
using System.Net.Sockets;

namespace LlmResilience.Doctor.Diagnosis.Probes;

/// <summary>Connects to every address in turn, timing each, and keeps the first connection for the next steps.</summary>
internal static class TcpProbe
{
    /// <returns>A connected socket, or <see langword="null"/> when no address accepted (a finding says why).</returns>
    public static async Task<Socket?> RunAsync(DiagnosisContext context, IPAddress[] addresses, int port, string? proxy, CancellationToken cancellationToken)
    {
        var timeout = context.Settings.ConnectTimeout;
        var details = new List<string>();
        Socket? connected = null;
        int refused = 0, timedOut = 0;
        string? firstError = null;
        var first = addresses.Length > 0 ? Describe(addresses[0], port) : "?";
        var start = context.Now();
        foreach (var address in addresses)
        {
            var endpoint = Describe(address, port);
            context.Progress.Starting($"Connecting to {endpoint}");
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var attempt = context.Now();
            using var deadline = context.Deadline(timeout, cancellationToken);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token).ConfigureAwait(false);
                details.Add($"{endpoint}: connected in {Findings.Ms(context.Since(attempt))}");
                if (connected is null)
                {
                    connected = socket;
                    continue;
                }
            }
            catch (SocketException e)
            {
                refused += e.SocketErrorCode == SocketError.ConnectionRefused ? 1 : 0;
                timedOut += e.SocketErrorCode == SocketError.TimedOut ? 1 : 0;
                firstError ??= Describe(e.SocketErrorCode);
                details.Add($"{endpoint}: {Describe(e.SocketErrorCode)} after {Findings.Ms(context.Since(attempt))}");
            }
            catch (OperationCanceledException) when (deadline.Expired)
            {
                timedOut++;
                details.Add($"{endpoint}: no answer within {Findings.Ms(timeout)}");
            }

            socket.Dispose();
        }

        var elapsed = context.Since(start);
        var target = proxy is null ? string.Empty : "the proxy ";
        if (connected is null)
        {
            context.Step("TCP connect", StepOutcome.Failed, elapsed, proxy is null ? "no address accepted a connection" : "no address of the proxy accepted a connection", details);
            var what = timedOut > 0 && refused == 0 ? $"no answer within {Findings.Ms(timeout)}" : $"connect {firstError}";
            context.Report.Add(proxy is not null
                ? Findings.ProxyUnreachable(proxy, what)
                : timedOut > 0 && refused == 0 ? Findings.ConnectTimeout(first, timeout, partly: false) : Findings.ConnectRefused(first, firstError ?? "refused"));
            return null;
        }

        if (timedOut > 0)
        {
            context.Step("TCP connect", StepOutcome.Warning, elapsed, $"connected to {target}{connected.RemoteEndPoint}, but {DnsProbe.Plural(timedOut, "address", "addresses")} did not answer", details);
            context.Report.Add(Findings.ConnectTimeout(first, timeout, partly: true));
        }
        else
        {
            context.Step("TCP connect", StepOutcome.Ok, elapsed, $"connected to {target}{connected.RemoteEndPoint}", details);
        }

        return connected;
    }

    private static string Describe(IPAddress address, int port) => new IPEndPoint(address, port).ToString();

    private static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "refused (ECONNREFUSED)",
        SocketError.TimedOut => "timed out",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostUnreachable => "host unreachable",
        _ => error.ToString(),
    };
}
