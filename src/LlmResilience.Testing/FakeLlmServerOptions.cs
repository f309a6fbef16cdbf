using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace LlmResilience.Testing;

/// <summary>Settings of a <see cref="FakeLlmServer"/>, read once by <see cref="FakeLlmServer.StartAsync"/>.</summary>
public sealed class FakeLlmServerOptions
{
    /// <summary>
    /// Gets or sets the TCP port to listen on, on <c>127.0.0.1</c>: 0 takes a free port (for tests), a fixed one runs the
    /// server as a local development server at an address known in advance (for example one named in appsettings.json).
    /// </summary>
    /// <remarks>A fixed port that is already in use fails <see cref="FakeLlmServer.StartAsync"/> with an <see cref="IOException"/> naming it.</remarks>
    /// <value>The default value is 0 (a free port, read back from <see cref="FakeLlmServer.Port"/>).</value>
    public int Port { get; set; }

    /// <summary>Gets or sets the model name echoed in every completion and chunk.</summary>
    /// <value>The default value is <c>"fake-model"</c>.</value>
    public string Model { get; set; } = "fake-model";

    /// <summary>
    /// Gets or sets the assistant text of <see cref="FakeBehavior.Ok"/> when no content is given, and the source of the
    /// content deltas of the streaming faults (split into word pieces, repeated when more are needed).
    /// </summary>
    /// <value>The default value is <c>"Hello from FakeLlmServer."</c>.</value>
    public string DefaultContent { get; set; } = "Hello from FakeLlmServer.";

    /// <summary>
    /// Gets or sets the pause before each content delta (and before the finish chunk) of a streamed
    /// <see cref="FakeBehavior.Ok"/> answer, so that a development server types like a model instead of answering at once.
    /// </summary>
    /// <value>The default value is <see cref="TimeSpan.Zero"/> (no pause).</value>
    public TimeSpan StreamInterval { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a request must carry <c>Authorization: Bearer {ApiKey}</c>. A request without it
    /// is answered 401 with OpenAI's <c>invalid_api_key</c> error and does not consume a scripted behavior.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequireApiKey { get; set; }

    /// <summary>Gets or sets the API key that <see cref="RequireApiKey"/> checks; required when it is <see langword="true"/>.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Gets or sets the clock of <see cref="RecordedRequest.ReceivedAt"/> and of the <c>created</c> field of responses.
    /// Delays, hangs and idle timeouts on the wire always run on real time: sockets do not know about fake clocks.
    /// </summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets a requests-per-minute quota the server enforces, as a provider does: every answer carries
    /// <c>x-ratelimit-limit-requests</c>, <c>x-ratelimit-remaining-requests</c> and <c>x-ratelimit-reset-requests</c>,
    /// and a request past the quota gets a 429 <c>rate_limit_exceeded</c> (the script is not consumed). Enforced over
    /// <see cref="RateLimitWindow"/>: a minute's quota is not available in one burst.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no quota).</value>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Gets or sets a tokens-per-minute quota, like <see cref="RequestsPerMinute"/> (<c>x-ratelimit-*-tokens</c>). A request costs its body's bytes / 4 plus its <c>max_tokens</c> (16 when absent).</summary>
    /// <value>The default value is <see langword="null"/> (no quota).</value>
    public int? TokensPerMinute { get; set; }

    /// <summary>Gets or sets the window a per-minute quota is enforced over: the bucket holds this share of the minute's quota (at least one request) and refills continuously.</summary>
    /// <value>The default value is 1 second (OpenAI documents that 60 RPM may be enforced as one request per second).</value>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the logger factory handed to Kestrel and ASP.NET Core; <see langword="null"/> logs nothing.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the server speaks HTTPS: TLS with <see cref="Certificate"/>, HTTP/2 negotiated
    /// by ALPN next to HTTP/1.1 (see <see cref="Protocols"/>), and <see cref="FakeLlmServer.BaseAddress"/> starting with <c>https://</c>.
    /// </summary>
    /// <remarks>
    /// The certificate is not trusted by the machine: a client must trust <see cref="FakeLlmServer.Certificate"/> itself, for
    /// example with <c>LlmResilienceOptions.ConfigurePrimaryHandler</c> adding it to
    /// <c>SslOptions.CertificateChainPolicy.CustomTrustStore</c> (with <c>TrustMode = X509ChainTrustMode.CustomRootTrust</c>).
    /// </remarks>
    /// <value>The default value is <see langword="false"/> (plain HTTP/1.1).</value>
    public bool UseHttps { get; set; }

    /// <summary>
    /// Gets or sets the server certificate of <see cref="UseHttps"/>, with its private key. <see langword="null"/> uses a
    /// self-signed certificate made once per process for <c>localhost</c>, <c>127.0.0.1</c> and <c>::1</c> (in its subject
    /// alternative names), valid from a day ago for a year.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// Gets or sets the protocols offered. With <see cref="UseHttps"/>, <see cref="HttpProtocols.Http1AndHttp2"/> (the
    /// default then: ALPN picks), <see cref="HttpProtocols.Http1"/> (a server that offers no HTTP/2, to test the fallback) or
    /// <see cref="HttpProtocols.Http2"/>. Without TLS only <see cref="HttpProtocols.Http1"/> is allowed.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="HttpProtocols.Http1AndHttp2"/> with TLS, <see cref="HttpProtocols.Http1"/> without.</value>
    public HttpProtocols? Protocols { get; set; }

    internal FakeLlmServerOptions Snapshot()
    {
        if (!UseHttps && Protocols is { } protocols && protocols != HttpProtocols.Http1)
        {
            throw new ArgumentException(
                $"{nameof(Protocols)} is {protocols} but {nameof(UseHttps)} is false: HTTP/2 needs TLS here. Set {nameof(UseHttps)} to true, or leave {nameof(Protocols)} null.",
                nameof(Protocols));
        }

        if (Certificate is { HasPrivateKey: false })
        {
            throw new ArgumentException($"{nameof(Certificate)} has no private key: a server certificate needs one.", nameof(Certificate));
        }

        if (Port is < 0 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, $"{nameof(Port)} must be between 0 (a free port) and {IPEndPoint.MaxPort}.");
        }

        if (StreamInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StreamInterval), StreamInterval, $"{nameof(StreamInterval)} must not be negative; TimeSpan.Zero streams without pauses.");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(Model, nameof(Model));
        ArgumentNullException.ThrowIfNull(DefaultContent, nameof(DefaultContent));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        if (RequestsPerMinute is <= 0 || TokensPerMinute is <= 0)
        {
            throw new ArgumentOutOfRangeException(RequestsPerMinute is <= 0 ? nameof(RequestsPerMinute) : nameof(TokensPerMinute), "A per-minute quota must be positive (or null for none).");
        }

        if (RateLimitWindow <= TimeSpan.Zero || RateLimitWindow > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(RateLimitWindow), RateLimitWindow, "Use a window above zero and at most one minute.");
        }

        if (RequireApiKey && string.IsNullOrEmpty(ApiKey))
        {
            throw new ArgumentException(
                $"{nameof(RequireApiKey)} is true but {nameof(ApiKey)} is empty: set {nameof(ApiKey)} to the key requests must carry.",
                nameof(ApiKey));
        }

        return new FakeLlmServerOptions
        {
            Port = Port,
            StreamInterval = StreamInterval,
            Model = Model,
            DefaultContent = DefaultContent,
            RequireApiKey = RequireApiKey,
            ApiKey = ApiKey,
            TimeProvider = TimeProvider,
            RequestsPerMinute = RequestsPerMinute,
            TokensPerMinute = TokensPerMinute,
            RateLimitWindow = RateLimitWindow,
            LoggerFactory = LoggerFactory,
            UseHttps = UseHttps,
            Certificate = Certificate,
            Protocols = Protocols,
        };
    }
}
