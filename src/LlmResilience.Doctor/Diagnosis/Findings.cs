using System.Globalization;

namespace LlmResilience.Doctor.Diagnosis;

/// <summary>The words of every finding, written once: what was seen (the summary) and what to do (the fix).</summary>
internal static class Findings
{
    public static DoctorFinding DnsFailure(string host, string error) => new(
        DoctorCause.DnsFailure,
        $"The host name '{host}' did not resolve ({error}).",
        "Check the spelling of the host in --base-url, and that this machine's DNS can resolve it (`getent hosts " + host + "`). Behind a corporate network the API may only be reachable through a proxy: set HTTPS_PROXY.");

    public static DoctorFinding ConnectRefused(string endpoint, string error) => new(
        DoctorCause.ConnectRefused,
        $"Nothing accepts connections at {endpoint} (connect: {error}).",
        "Check the port in --base-url and that the server (or the local gateway) is running and listening on that address; a firewall that rejects (rather than drops) the port looks the same.");

    public static DoctorFinding ConnectTimeout(string endpoint, TimeSpan timeout, bool partly) => new(
        DoctorCause.ConnectTimeout,
        partly
            ? $"Some addresses of {endpoint} do not answer a TCP connect within {Ms(timeout)}, while another does: every new connection may wait that long first."
            : $"The TCP connect to {endpoint} did not complete within {Ms(timeout)}: the packets are dropped on the way (a firewall, a security group, a network that needs a proxy) or the server's accept queue is full.",
        partly
            ? "Fix or remove the addresses that do not answer (often IPv6 on a network without IPv6 routing), or prefer the working address family."
            : "Check firewalls and security groups between this machine and the host; if this network reaches the internet only through a proxy, set HTTPS_PROXY (and NO_PROXY for internal hosts).");

    public static DoctorFinding ProxyUnreachable(string proxy, string error) => new(
        DoctorCause.ProxyUnreachable,
        $"The proxy {proxy} cannot be reached: {error}.",
        "Check HTTPS_PROXY / HTTP_PROXY (host and port) and that the proxy is running; if this host should be reached directly, add it to NO_PROXY.");

    public static DoctorFinding ProxyRejected(string proxy, string what) => new(
        DoctorCause.ProxyRejected,
        $"The proxy {proxy} refused the tunnel: {what}.",
        "A 407 needs proxy credentials (http://user:password@proxy:port in HTTPS_PROXY); a 403 means the proxy's allow-list does not include the API host or port: ask for it to be allowed, or add the host to NO_PROXY if it is reachable directly.");

    public static DoctorFinding TlsUntrusted(string endpoint, string why) => new(
        DoctorCause.TlsUntrustedCertificate,
        $"The certificate of {endpoint} is not trusted: {why}.",
        "If a TLS-inspecting proxy or a private CA signs it, install that CA in the system trust store (or add it to SslOptions.CertificateChainPolicy.CustomTrustStore via LlmResilienceOptions.ConfigurePrimaryHandler); if the certificate expired, renew it on the server.");

    public static DoctorFinding TlsNameMismatch(string host, string names) => new(
        DoctorCause.TlsHostnameMismatch,
        $"The certificate is not valid for '{host}'; it names {names}.",
        "Use a host name the certificate was issued for in --base-url (not an IP address or an alias), or reissue the certificate with this name in its subject alternative names.");

    public static DoctorFinding TlsHandshake(string endpoint, string what, bool notTls) => new(
        DoctorCause.TlsHandshakeFailed,
        $"The TLS handshake with {endpoint} failed: {what}.",
        notTls
            ? "The port answers in plain HTTP: use http:// in --base-url, or the port where the server serves HTTPS."
            : "Check that the port serves TLS, that the server accepts TLS 1.2 or 1.3, and that no middlebox resets the connection after the ClientHello (SNI filtering).");

    public static DoctorFinding ResetBeforeHeaders(string what) => new(
        DoctorCause.ResetBeforeHeaders,
        $"The connection was {what} before any response header arrived.",
        "Something between you and the API drops the request: a load balancer's or proxy's idle or request timeout, or an upstream that restarts. LlmResilience retries this at once; if it happens on every call, check the proxy and load-balancer logs and timeouts.");

    public static DoctorFinding UpstreamError(int status, string who, string? requestId) => new(
        DoctorCause.ProxyUpstreamError,
        requestId is null
            ? $"{who} answered {status}: it could not get an answer from the server behind it."
            : $"{who} answered {status} (request id {requestId}).",
        status is 504 or 524 or 408
            ? "The gateway gave up waiting for the API: raise its upstream read timeout (nginx proxy_read_timeout, Envoy route timeout) above the longest completion you expect, or stream. LlmResilience retries these."
            : "The gateway could not reach or lost the API upstream: check the gateway's upstream configuration and logs, and the provider's status page. LlmResilience retries these.");

    public static DoctorFinding Unauthorized(int status, bool keySent, string? message) => new(
        DoctorCause.Unauthorized,
        keySent
            ? $"The API answered {status}: the key was refused{Said(message)}."
            : $"The API answered {status}: no API key was sent{Said(message)}.",
        keySent
            ? "Check the key (--api-key or OPENAI_API_KEY): that it is current, belongs to this provider and, for 403, to a project allowed to use this API or model."
            : "Pass --api-key or set OPENAI_API_KEY.");

    public static DoctorFinding WrongBaseAddress(string url, string what) => new(
        DoctorCause.WrongBaseAddress,
        $"{url} is not an OpenAI-compatible API: {what}.",
        "--base-url must be the API root that /models and /chat/completions hang off, ending in a slash, such as https://api.openai.com/v1/ (not the web site, and not …/chat/completions).");

    public static DoctorFinding RateLimited(string hints) => new(
        DoctorCause.RateLimited,
        $"The API answered 429: rate limited{hints}.",
        "Wait the time the server asks for (LlmResilience honours retry-after-ms, Retry-After and x-ratelimit-reset-*); if it persists, lower the request rate or ask the provider for higher limits.");

    public static DoctorFinding QuotaExceeded(string? message) => new(
        DoctorCause.QuotaExceeded,
        $"The API answered 429 insufficient_quota: the account has no credit left{Said(message)}.",
        "Add credit or raise the spending limit in the provider's billing settings; retrying will not help.");

    public static DoctorFinding SlowFirstByte(string what, TimeSpan took, TimeSpan threshold) => new(
        DoctorCause.SlowFirstByte,
        $"{what} took {Ms(took)} to its first byte (more than {Ms(threshold)}) although it costs the API almost nothing.",
        "Something on the path is slow: a proxy that queues, an overloaded gateway, or a distant region. Compare with a call from another network, and check the proxy's latency.");

    public static DoctorFinding NoFirstByte(string what, TimeSpan timeout) => new(
        DoctorCause.SlowFirstByte,
        $"{what} got no response within {Ms(timeout)}: the connection is open but nothing answers.",
        "A proxy or gateway holds the request without forwarding it, or the API is overloaded: check the proxy's upstream and its logs, and the provider's status page.");

    public static DoctorFinding StreamBuffered(int events, TimeSpan span, TimeSpan first) => new(
        DoctorCause.StreamBuffered,
        $"The stream's {events} events arrived in one burst ({Ms(span)} apart in all) after {Ms(first)}: something between you and the API buffers the event stream.",
        "Turn response buffering off for the API route: nginx `proxy_buffering off;` (or the `X-Accel-Buffering: no` header), and no gzip on text/event-stream in proxies or CDNs.");

    public static string Ms(TimeSpan time) => time.TotalMilliseconds < 10
        ? string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0.0} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0} ms");

    private static string Said(string? message) => string.IsNullOrWhiteSpace(message) ? string.Empty : $" (\"{message}\")";
}
