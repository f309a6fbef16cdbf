using System.Net.Sockets;

namespace LlmResilience.Doctor.Diagnosis.Probes;

/// <summary>
/// Names what an HTTP call's answer, or its failure, means. Exceptions go through the core's classification
/// (<see cref="TransportFailures"/>), so llm-doctor and the pipeline call a reset, a refused connect or an untrusted
/// certificate the same thing.
/// </summary>
internal static class CallDiagnosis
{
    /// <summary>What an answer means, or <see langword="null"/> when it is no connection problem (2xx, or a 400 about the request).</summary>
    public static DoctorFinding? Classify(ApiCall call, string request, string baseAddress, string? proxy, bool keySent, bool expectJson)
    {
        var (code, message) = call.Error();
        switch (call.Status)
        {
            case 401 or 403:
                return Findings.Unauthorized(call.Status, keySent, message);
            case 404 when code == "model_not_found":
                return null;
            case 404 or 405:
                var page = call.IsHtml ? " with an HTML page" : call.IsJson ? string.Empty : " with a body that is not JSON";
                return Findings.WrongBaseAddress(baseAddress, $"{request} answered {call.Status}{page}{Quote(message)}");
            case 407:
                return Findings.ProxyRejected(proxy ?? "on the path", "it asked for proxy credentials (407)");
            case 429 when code == "insufficient_quota":
                return Findings.QuotaExceeded(message);
            case 429:
                var hints = string.Join("; ", call.RateLimitHeaders());
                return Findings.RateLimited(hints.Length == 0 ? string.Empty : $" ({hints})");
            case 408 or >= 500:
                return Findings.UpstreamError(call.Status, Who(call), call.IsJson ? call.RequestId : null);
            case >= 200 and < 300 when expectJson && !call.IsJson:
                return Findings.WrongBaseAddress(baseAddress, $"{request} answered {call.Status} with {(call.IsHtml ? "a web page" : call.ContentType ?? "no content type")}, not JSON");
            default:
                return null;
        }
    }

    /// <summary>What a call that ended without an answer means.</summary>
    public static DoctorFinding Classify(Exception exception, string request, string endpoint, string? proxy, bool timedOut, DoctorSettings settings)
    {
        if (timedOut)
        {
            return Findings.NoFirstByte(request, settings.RequestTimeout);
        }

        if (exception is OperationCanceledException { InnerException: TimeoutException })
        {
            return proxy is null ? Findings.ConnectTimeout(endpoint, settings.ConnectTimeout, partly: false) : Findings.ProxyUnreachable(proxy, "the connect timed out");
        }

        var socket = TransportFailures.FindSocketError(exception);
        if (exception is HttpRequestException http)
        {
            if (http.HttpRequestError == HttpRequestError.ProxyTunnelError)
            {
                return Findings.ProxyRejected(proxy ?? "on the path", TransportFailures.Describe(http));
            }

            switch (TransportFailures.FindTlsProblem(http))
            {
                case TlsProblem.NameMismatch:
                    return Findings.TlsNameMismatch(new Uri(endpoint).Host, "other names");
                case TlsProblem.UntrustedCertificate:
                case TlsProblem.RejectedCertificate:
                    return Findings.TlsUntrusted(endpoint, TransportFailures.Describe(http));
                case TlsProblem.NotTls:
                    return Findings.TlsHandshake(endpoint, "the server did not answer in TLS", notTls: true);
            }

            if (http.HttpRequestError == HttpRequestError.NameResolutionError)
            {
                return proxy is null ? Findings.DnsFailure(new Uri(endpoint).Host, TransportFailures.Describe(http)) : Findings.ProxyUnreachable(proxy, "its name did not resolve");
            }

            if (socket is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable)
            {
                return proxy is null ? Findings.ConnectRefused(endpoint, socket.ToString()!) : Findings.ProxyUnreachable(proxy, $"connect {socket}");
            }
        }

        var (kind, _) = TransportFailures.Classify(exception);
        return kind switch
        {
            LlmFailureKind.InvalidResponse => Findings.WrongBaseAddress(endpoint, $"{request} got an answer that is not valid HTTP"),
            LlmFailureKind.ConnectFailure when proxy is not null => Findings.ProxyUnreachable(proxy, TransportFailures.Describe(exception)),
            LlmFailureKind.ConnectFailure => Findings.ConnectRefused(endpoint, TransportFailures.Describe(exception)),
            _ => Findings.ResetBeforeHeaders(socket is SocketError.ConnectionReset ? "reset (ECONNRESET)" : "closed"),
        };
    }

    /// <summary>Who answered: the API (it sends its own headers and JSON) or a gateway, named by its <c>server</c> header and page.</summary>
    private static string Who(ApiCall call)
    {
        var server = call.Header("server") ?? string.Empty;
        var name = server.Contains("envoy", StringComparison.OrdinalIgnoreCase) ? "Envoy"
            : server.Contains("nginx", StringComparison.OrdinalIgnoreCase) ? "nginx"
            : server.Contains("cloudflare", StringComparison.OrdinalIgnoreCase) ? "Cloudflare"
            : null;
        if (name is null && call.IsJson && call.RequestId is not null)
        {
            return "The API";
        }

        var who = name is null ? (server.Length > 0 ? $"A gateway (server: {server})" : "A gateway") : $"A gateway ({name})";
        var line = call.Body.Trim().Split('\n', 2)[0].Trim();
        return !call.IsHtml && line.Length is > 0 and <= 200 ? $"{who}, saying \"{line}\"," : who;
    }

    private static string Quote(string? message) => string.IsNullOrWhiteSpace(message) ? string.Empty : $": \"{message}\"";
}
