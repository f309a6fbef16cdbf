using System.Net;
using System.Net.Sockets;

namespace LlmResilience.Doctor.Diagnosis.Probes;

/// <summary>Resolves the host to connect to (the API's, or the proxy's) and lists every address.</summary>
internal static class DnsProbe
{
    /// <returns>The addresses, or <see langword="null"/> when the name did not resolve (a finding says why).</returns>
    public static async Task<IPAddress[]?> RunAsync(DiagnosisContext context, string host, string? proxy, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            context.Step("DNS", StepOutcome.Skipped, null, $"{host} is an IP address: no lookup");
            return [literal];
        }

        context.Progress.Starting($"Resolving {host}");
        var start = context.Now();
        using var deadline = context.Deadline(context.Settings.DnsTimeout, cancellationToken);
        string error;
        try
        {
            var resolve = context.Settings.Resolver ?? Dns.GetHostAddressesAsync;
            var addresses = await resolve(host, deadline.Token).ConfigureAwait(false);
            var elapsed = context.Since(start);
            if (addresses.Length > 0)
            {
                context.Step("DNS", StepOutcome.Ok, elapsed, $"{host}: {Plural(addresses.Length, "address", "addresses")}", addresses.Select(a => a.ToString()));
                return addresses;
            }

            error = "no addresses";
        }
        catch (SocketException e)
        {
            error = $"{e.SocketErrorCode}: {e.Message}";
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            error = $"no answer within {Findings.Ms(context.Settings.DnsTimeout)}";
        }

        context.Step("DNS", StepOutcome.Failed, context.Since(start), $"{host} did not resolve: {error}");
        context.Report.Add(proxy is null ? Findings.DnsFailure(host, error) : Findings.ProxyUnreachable(proxy, $"its host name '{host}' did not resolve ({error})"));
        return null;
    }

    internal static string Plural(int count, string one, string many) => count == 1 ? $"1 {one}" : $"{count} {many}";
}
