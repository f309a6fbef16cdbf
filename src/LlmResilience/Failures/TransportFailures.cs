using System.Net.Sockets;
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
    public static bool IsTransportFailure(Exception exception) =>
        exception is HttpRequestException { StatusCode: null } http && ClassifyHttpRequestException(http).Kind
            is LlmFailureKind.ConnectFailure or LlmFailureKind.ResetBeforeHeaders;

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

    private static (LlmFailureKind Kind, bool Retryable) ClassifyHttpRequestException(HttpRequestException exception)
    {
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
