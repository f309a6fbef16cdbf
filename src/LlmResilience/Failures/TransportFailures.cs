using System.Net.Sockets;
using System.Security.Authentication;
using Polly.Timeout;

namespace LlmResilience;

/// <summary>
/// Classifies the exceptions an attempt can end with (transport, timeouts, our own first-event and body checks).
/// Part of the failure factory: <see cref="LlmFailures"/> is the one entry point; the connection-pool recycling asks
/// <see cref="IsTransportFailure"/> here so that it counts exactly what the retry layer calls a transport failure.
/// </summary>
internal static class TransportFailures
{
    /// <summary>408, 409, 429, 500, 502, 503, 504 and Cloudflare's 520-524 are worth another attempt; 400, 401, 403, 404, 422 never are.</summary>
    public static bool IsRetryableStatus(int status) =>
        status is 408 or 409 or 429 or 500 or 502 or 503 or 504 or (>= 520 and <= 524);

    /// <summary>Classifies an exception an attempt ended with (the caller's own cancellation is handled before this).</summary>
    public static (LlmFailureKind Kind, bool Retryable) Classify(Exception exception)
    {
        switch (exception)
        {
            case LlmException llm:
                // Thrown inside an attempt by the first-event reader: a stream that broke or stalled before the
                // caller saw anything can be retried; a body too large or malformed cannot.
                return (llm.Kind, llm.Kind is LlmFailureKind.Timeout or LlmFailureKind.ResetBeforeHeaders or LlmFailureKind.ConnectFailure);
            case TimeoutRejectedException:
                return (LlmFailureKind.Timeout, true);
            case OperationCanceledException oce when oce.InnerException is TimeoutException:
                // SocketsHttpHandler's ConnectTimeout surfaces as a cancellation wrapping a TimeoutException.
                return (LlmFailureKind.ConnectFailure, true);
            case OperationCanceledException:
                return (LlmFailureKind.Timeout, true);
            case HttpRequestException http:
                return ClassifyHttpRequestException(http);
            case IOException:
                return (LlmFailureKind.ResetBeforeHeaders, true);
            default:
                return (LlmFailureKind.Unknown, false);
        }
    }

    /// <summary>Whether the exception means the transport failed (the kind of failure that pool recycling counts).</summary>
    /// <remarks>A TLS certificate problem is not one: fresh connections would meet the same certificate.</remarks>
    public static bool IsTransportFailure(Exception exception) =>
        exception is HttpRequestException { StatusCode: null } http && ClassifyHttpRequestException(http) is
            { Retryable: true, Kind: LlmFailureKind.ConnectFailure or LlmFailureKind.ResetBeforeHeaders };

    /// <summary>A short, key-free description of a failure for logs and messages, such as "connection reset (ConnectionReset)".</summary>
    public static string Describe(Exception exception)
    {
        var socket = FindSocketError(exception);
        return exception switch
        {
            TimeoutRejectedException => "attempt timed out",
            OperationCanceledException { InnerException: TimeoutException } => "connect timed out",
            LlmException llm => llm.Message,
            HttpRequestException { HttpRequestError: HttpRequestError.ProxyTunnelError } http => ProxyTunnel(http),
            HttpRequestException http when FindTlsProblem(http) is { } tls => Phrase(tls),
            HttpRequestException http when socket is { } error => $"{Phrase(http.HttpRequestError)} ({error})",
            HttpRequestException http => Phrase(http.HttpRequestError),
            _ => exception.GetType().Name,
        };
    }

    public static SocketError? FindSocketError(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }

        return null;
    }

    /// <summary>
    /// The certificate or protocol problem behind a failed TLS handshake, or <see langword="null"/> when the exception is
    /// not one (a handshake cut short by a reset or a timeout, or an error not recognized, is a transport failure like any
    /// other, and is retried).
    /// </summary>
    public static TlsProblem? FindTlsProblem(Exception? exception)
    {
        if (exception is not HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } http
            || FindInner<AuthenticationException>(http) is not { } authentication)
        {
            return null;
        }

        // SslStream names the SslPolicyErrors and X509ChainStatusFlags it saw by their enum names, which are not
        // localized: "...because of errors in the certificate chain: UntrustedRoot", "...according to the validation
        // procedure: RemoteCertificateNameMismatch". A plain-HTTP answer to our ClientHello is not a TLS record: SslStream's
        // own framing says "Cannot determine the frame size or a corrupted frame was received" (.NET 8 and later, where
        // it reads the records itself); OpenSSL "wrong version number" (or "packet length too long"), Schannel "badly
        // formatted". These texts are English only; elsewhere the failure stays a generic, retried handshake failure.
        var text = AllMessages(authentication);
        if (text.Contains("RemoteCertificateNameMismatch", StringComparison.Ordinal))
        {
            return TlsProblem.NameMismatch;
        }

        if (text.Contains("UntrustedRoot", StringComparison.Ordinal) || text.Contains("PartialChain", StringComparison.Ordinal)
            || text.Contains("RemoteCertificateChainErrors", StringComparison.Ordinal))
        {
            return TlsProblem.UntrustedCertificate;
        }

        if (text.Contains("frame size", StringComparison.OrdinalIgnoreCase) || text.Contains("corrupted frame", StringComparison.OrdinalIgnoreCase)
            || text.Contains("wrong version number", StringComparison.OrdinalIgnoreCase) || text.Contains("packet length too long", StringComparison.OrdinalIgnoreCase)
            || text.Contains("badly formatted", StringComparison.OrdinalIgnoreCase))
        {
            return TlsProblem.NotTls;
        }

        // Anything else (an OpenSSL error with a reset under it, an unknown wording) stays an ordinary, retried failure.
        return text.Contains("remote certificate", StringComparison.OrdinalIgnoreCase) ? TlsProblem.RejectedCertificate : null;
    }

    /// <summary>What a <see cref="TlsProblem"/> means and how to fix it, for the final message of a call.</summary>
    public static string Advice(TlsProblem problem, string endpoint, string? host) => problem switch
    {
        TlsProblem.UntrustedCertificate =>
            $"The TLS handshake with {endpoint} failed: its certificate is not trusted (it chains to a root this machine does not trust: self-signed, a private CA, or a TLS-inspecting proxy). Trust the issuing CA (install it in the system store, or set LlmResilienceOptions.ConfigurePrimaryHandler to add it to SslOptions.CertificateChainPolicy.CustomTrustStore). Retrying will not help.",
        TlsProblem.NameMismatch =>
            $"The TLS handshake with {endpoint} failed: its certificate is not valid for the host name '{host}'. Use the host name the certificate was issued for in BaseAddress (not an IP address or an alias), or fix the server's certificate. Retrying will not help.",
        TlsProblem.NotTls =>
            $"The TLS handshake with {endpoint} failed: the server did not answer in TLS at all (it answered in plain HTTP, or speaks another protocol on that port). Use http:// in BaseAddress if the server has no TLS, or the port where it serves HTTPS. Retrying will not help.",
        _ =>
            $"The TLS handshake with {endpoint} failed: its certificate was rejected (expired, revoked, or refused by a RemoteCertificateValidationCallback). Check the server's certificate and the SslOptions set in LlmResilienceOptions.ConfigurePrimaryHandler. Retrying will not help.",
    };

    private static T? FindInner<T>(Exception exception)
        where T : Exception
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static string AllMessages(Exception exception)
    {
        var text = new System.Text.StringBuilder();
        for (var e = (Exception?)exception; e is not null; e = e.InnerException)
        {
            text.Append(e.Message).Append('\n');
        }

        return text.ToString();
    }

    private static (LlmFailureKind Kind, bool Retryable) ClassifyHttpRequestException(HttpRequestException exception)
    {
        // A certificate (or a server that speaks no TLS) will not change on the next attempt: a failure, not a blip.
        if (FindTlsProblem(exception) is not null)
        {
            return (LlmFailureKind.ConnectFailure, false);
        }

        switch (FindSocketError(exception))
        {
            case SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.OperationAborted:
                return (LlmFailureKind.ResetBeforeHeaders, true);
            case SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable
                or SocketError.HostNotFound or SocketError.TryAgain or SocketError.TimedOut or SocketError.NetworkDown:
                return (LlmFailureKind.ConnectFailure, true);
        }

        return exception.HttpRequestError switch
        {
            HttpRequestError.ResponseEnded => (LlmFailureKind.ResetBeforeHeaders, true),
            HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
                => (LlmFailureKind.ConnectFailure, true),
            // The proxy on our side refused or failed the CONNECT: we never reached the API, so it is a connect failure.
            HttpRequestError.ProxyTunnelError => (LlmFailureKind.ConnectFailure, true),
            HttpRequestError.HttpProtocolError => (LlmFailureKind.ResetBeforeHeaders, true),
            HttpRequestError.InvalidResponse => (LlmFailureKind.InvalidResponse, false),
            HttpRequestError.Unknown when exception.InnerException is IOException => (LlmFailureKind.ResetBeforeHeaders, true),
            _ => (LlmFailureKind.Unknown, false),
        };
    }

    // SocketsHttpHandler says "The proxy tunnel request to proxy 'http://proxy:3128/' failed with status code '407'.":
    // it names the proxy and what it answered. Credentials in the proxy's address are cut out.
    private static string ProxyTunnel(HttpRequestException exception)
    {
        var said = Endpoints.StripUserInfo(exception.Message).TrimEnd('.');
        return $"the proxy refused or failed the tunnel: {said}";
    }

    private static string Phrase(TlsProblem problem) => problem switch
    {
        TlsProblem.UntrustedCertificate => "TLS handshake failed: untrusted certificate",
        TlsProblem.NameMismatch => "TLS handshake failed: certificate name mismatch",
        TlsProblem.NotTls => "TLS handshake failed: the server does not speak TLS",
        _ => "TLS handshake failed: certificate rejected",
    };

    private static string Phrase(HttpRequestError error) => error switch
    {
        HttpRequestError.ResponseEnded => "connection closed before the response was complete",
        HttpRequestError.ConnectionError => "connection failed",
        HttpRequestError.NameResolutionError => "host name did not resolve",
        HttpRequestError.SecureConnectionError => "TLS handshake failed",
        HttpRequestError.ProxyTunnelError => "proxy tunnel failed",
        HttpRequestError.HttpProtocolError => "HTTP protocol error",
        HttpRequestError.InvalidResponse => "invalid HTTP response",
        _ => "transport failure",
    };
}

/// <summary>Why a TLS handshake failed for good (see <see cref="TransportFailures.FindTlsProblem"/>).</summary>
internal enum TlsProblem
{
    /// <summary>The certificate chains to a root that is not trusted (self-signed, a private CA, an intercepting proxy).</summary>
    UntrustedCertificate,

    /// <summary>The certificate is not valid for the host name of the request.</summary>
    NameMismatch,

    /// <summary>The server answered the ClientHello with something that is not TLS (typically plain HTTP).</summary>
    NotTls,

    /// <summary>The certificate was rejected otherwise (expired, revoked, or by a validation callback).</summary>
    RejectedCertificate,
}
