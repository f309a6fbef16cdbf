namespace LlmResilience;

/// <summary>
/// How the LlmResilience pipeline treats a call: its timeouts, its retries and the connections under it.
/// </summary>
/// <remarks>
/// The pipeline runs these layers, outermost first:
/// <list type="number">
/// <item><description><b>Total timeout</b> (<see cref="TotalTimeout"/>): one deadline over every attempt, every wait between attempts and the streamed body.</description></item>
/// <item><description><b>Retry</b> (<see cref="MaxRetryAttempts"/>, <see cref="BaseDelay"/>, <see cref="MaxDelay"/>, <see cref="MaxRetryAfter"/>): exponential backoff with jitter, or the wait the server asks for (<c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c>, <c>Retry-After</c>, and on a 429 the <c>x-ratelimit-reset-*</c> that ran out).</description></item>
/// <item><description><b>Attempt timeout</b> (<see cref="AttemptTimeout"/>, and for streams <see cref="FirstTokenTimeout"/>): one attempt, until its response headers and, for a non-streamed answer, its body; for a stream, until its first data event.</description></item>
/// <item><description><b>Connections</b>: a tuned <see cref="System.Net.Http.SocketsHttpHandler"/> (<see cref="ConnectTimeout"/>, <see cref="PooledConnectionLifetime"/>, <see cref="PooledConnectionIdleTimeout"/>, HTTP/2 with fallback) whose pool is dropped after <see cref="PoolRecycleAfterTransportFailures"/> transport failures in a row.</description></item>
/// </list>
/// After a stream's first event the pipeline never retries (it would duplicate output); <see cref="StreamIdleTimeout"/> bounds every gap between data events.
/// Each attempt is a fresh copy of the caller's request (the caller's own message is never sent), built for the endpoint
/// the attempt goes to. The synchronous <c>HttpClient.Send</c> runs the same pipeline and blocks its thread for the whole call.
/// </remarks>
public sealed class LlmResilienceOptions
{
    /// <summary>How many times a failed attempt is retried; 0 turns retries off.</summary>
    /// <value>The default value is 4 (five attempts in all).</value>
    public int MaxRetryAttempts { get; set; } = LlmResilienceDefaults.MaxRetryAttempts;

    /// <summary>The backoff before the first retry; it doubles on each further retry, up to <see cref="MaxDelay"/>, with jitter.</summary>
    /// <value>The default value is 0.5 seconds.</value>
    public TimeSpan BaseDelay { get; set; } = LlmResilienceDefaults.BaseDelay;

    /// <summary>The longest computed backoff between two attempts (a wait the server asks for is bounded by <see cref="MaxRetryAfter"/> instead).</summary>
    /// <value>The default value is 20 seconds.</value>
    public TimeSpan MaxDelay { get; set; } = LlmResilienceDefaults.MaxDelay;

    /// <summary>
    /// The longest wait the pipeline accepts from a server's hint (<c>Retry-After</c> and kin). A longer hint fails the
    /// call at once with <see cref="LlmFailureKind.RateLimited"/> and <see cref="LlmException.RetryAfter"/> set, instead of sleeping for minutes.
    /// </summary>
    /// <value>The default value is 60 seconds.</value>
    public TimeSpan MaxRetryAfter { get; set; } = LlmResilienceDefaults.MaxRetryAfter;

    /// <summary>How long one TCP (and TLS) connect may take.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = LlmResilienceDefaults.ConnectTimeout;

    /// <summary>
    /// How long one attempt may take to produce its response headers (and, when not streamed, its body). A non-streamed
    /// completion sends its headers only once the whole answer is generated, hence the long default.
    /// </summary>
    /// <value>The default value is 10 minutes.</value>
    public TimeSpan AttemptTimeout { get; set; } = LlmResilienceDefaults.AttemptTimeout;

    /// <summary>How long a streamed attempt may take, from sending the request, to deliver its first data event (SSE comments such as <c>: keep-alive</c> do not count). A stream that misses it is retried.</summary>
    /// <value>The default value is 10 minutes.</value>
    public TimeSpan FirstTokenTimeout { get; set; } = LlmResilienceDefaults.FirstTokenTimeout;

    /// <summary>
    /// Streams only: the longest gap allowed between two data events once the first one has arrived (SSE comments such
    /// as <c>: keep-alive</c> do not reset it). A stream that goes idle fails with
    /// <see cref="LlmFailureKind.StreamInterrupted"/> (not <see cref="LlmFailureKind.Timeout"/>: output already reached the caller, so it is not retried).
    /// A non-streamed body is bounded by <see cref="AttemptTimeout"/> instead.
    /// </summary>
    /// <value>The default value is 90 seconds.</value>
    public TimeSpan StreamIdleTimeout { get; set; } = LlmResilienceDefaults.StreamIdleTimeout;

    /// <summary>One deadline over the whole call: every attempt, every wait between attempts, and the streamed body.</summary>
    /// <value>The default value is 20 minutes.</value>
    public TimeSpan TotalTimeout { get; set; } = LlmResilienceDefaults.TotalTimeout;

    /// <summary>How long a pooled connection is used at most before a new one is opened, so DNS changes and fail-overs are picked up.</summary>
    /// <value>The default value is 2 minutes.</value>
    public TimeSpan PooledConnectionLifetime { get; set; } = LlmResilienceDefaults.PooledConnectionLifetime;

    /// <summary>How long a connection may sit idle in the pool; kept below the usual 60-second idle timeout of load balancers so that a connection the far side is closing is not picked up.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan PooledConnectionIdleTimeout { get; set; } = LlmResilienceDefaults.PooledConnectionIdleTimeout;

    /// <summary>After this many transport failures in a row to one endpoint, the connection pool is dropped and the next attempt opens fresh connections; 0 turns recycling off.</summary>
    /// <value>The default value is 3.</value>
    public int PoolRecycleAfterTransportFailures { get; set; } = LlmResilienceDefaults.PoolRecycleAfterTransportFailures;

    /// <summary>The largest response body accepted; a larger one fails with <see cref="LlmFailureKind.InvalidResponse"/> and is never buffered whole.</summary>
    /// <value>The default value is 32 MiB.</value>
    public long MaxResponseBytes { get; set; } = LlmResilienceDefaults.MaxResponseBytes;

    /// <summary>Whether HTTP/2 is requested (with fallback to HTTP/1.1 when the server or a proxy does not offer it). HTTP/2 needs TLS here: plain <c>http://</c> stays on HTTP/1.1.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool EnableHttp2 { get; set; } = true;

    /// <summary>Whether the backoff is jittered (a random factor between 0.5 and 1), so that many clients failing together do not retry together.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool UseJitter { get; set; } = true;

    /// <summary>
    /// A hook that adjusts each <see cref="System.Net.Http.SocketsHttpHandler"/> the pipeline builds, run after LlmResilience set its
    /// own defaults: for a custom CA bundle or certificate pinning (<see cref="System.Net.Http.SocketsHttpHandler.SslOptions"/>:
    /// <c>CertificateChainPolicy</c> with a <c>CustomTrustStore</c>, or a <c>RemoteCertificateValidationCallback</c>), client
    /// certificates (<c>SslOptions.ClientCertificates</c>), an explicit <see cref="System.Net.Http.SocketsHttpHandler.Proxy"/>,
    /// or socket-level settings such as <see cref="System.Net.Http.SocketsHttpHandler.ConnectCallback"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// It runs once for every connection pool: when an endpoint is first called and again after each recycle
    /// (<see cref="PoolRecycleAfterTransportFailures"/>), so it must be cheap and must configure the handler it is given
    /// the same way every time. It must not keep the handler or dispose it: the pipeline owns it.
    /// </para>
    /// <para>
    /// Leave alone what the pipeline relies on: <c>AutomaticDecompression</c> (the pipeline decompresses responses itself, for
    /// less CPU), <c>AllowAutoRedirect</c> (a redirect would re-send the API key to another
    /// host) and the timeouts that have their own options here (<see cref="ConnectTimeout"/>,
    /// <see cref="PooledConnectionLifetime"/>, <see cref="PooledConnectionIdleTimeout"/>: set those instead, as an
    /// assignment here silently overrides them). HTTP/2 is chosen per request (<see cref="EnableHttp2"/>), not on the handler.
    /// </para>
    /// <para>
    /// Not bound from configuration (a delegate has no configuration form): set it in code, for example in the
    /// <c>AddChatCompletionsClient(options =&gt; ...)</c> callback, also after binding a section.
    /// </para>
    /// </remarks>
    /// <value>The default value is <see langword="null"/> (the handler as LlmResilience tunes it).</value>
    public Action<System.Net.Http.SocketsHttpHandler>? ConfigurePrimaryHandler { get; set; }

    /// <summary>
    /// For <c>AddLlmResilienceHandler</c> under another client (the official OpenAI SDK, Microsoft.Extensions.AI's
    /// OpenAI client, your own code): the endpoints its requests are routed over. Each attempt rewrites the request's
    /// base address, its key (when the endpoint has one) and the body's <c>model</c> (when the endpoint names one). Point
    /// the client itself at one of these base addresses, conventionally the first. Empty (the default): every request
    /// goes where it is addressed. Under the typed client, list the endpoints in <see cref="LlmClientOptions.Endpoints"/> instead.
    /// </summary>
    public IList<LlmEndpoint> Endpoints { get; set; } = new List<LlmEndpoint>();

    /// <summary>The circuit breaker of each endpoint, when there are several (<see cref="LlmClientOptions.Endpoints"/>, <see cref="Endpoints"/>).</summary>
    public LlmCircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>With several endpoints: how long an endpoint whose key ran out of quota (<c>insufficient_quota</c>) is left out of rotation.</summary>
    /// <value>The default value is 5 minutes.</value>
    public TimeSpan QuotaExceededCooldown { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The client-wide retry budget: retries beyond a share of recent calls are not made, so a retry storm cannot multiply the load on an overloaded provider.</summary>
    public LlmRetryBudgetOptions RetryBudget { get; set; } = new();

    /// <summary>
    /// Hedging, off by default: when an attempt has no answer after this long (non-streamed: its response; streamed: its
    /// first event), one more attempt starts, on another available endpoint when the client has several; the first to
    /// answer wins and the other is cancelled at once. It cuts tail latency, above all a stream's time to first token,
    /// at a cost: the cancelled attempt may still be billed for the tokens it generated. A hedge counts against the
    /// retry budget and is paced like any attempt. Set it near the p90 of the time to first token you see.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no hedging).</value>
    public TimeSpan? HedgingDelay { get; set; }

    /// <summary>With <see cref="HedgingDelay"/>: how many hedged attempts one call may start (1 to 3).</summary>
    /// <value>The default value is 1.</value>
    public int MaxHedgedAttempts { get; set; } = 1;

    /// <summary>The random source of the jitter, returning values in [0, 1); tests pin it. <see langword="null"/> uses <see cref="Random.Shared"/>.</summary>
    internal Func<double>? Randomizer { get; set; }

    /// <summary>Copies every setting into <paramref name="target"/>.</summary>
    internal void CopyTo(LlmResilienceOptions target)
    {
        target.MaxRetryAttempts = MaxRetryAttempts;
        target.BaseDelay = BaseDelay;
        target.MaxDelay = MaxDelay;
        target.MaxRetryAfter = MaxRetryAfter;
        target.ConnectTimeout = ConnectTimeout;
        target.AttemptTimeout = AttemptTimeout;
        target.FirstTokenTimeout = FirstTokenTimeout;
        target.StreamIdleTimeout = StreamIdleTimeout;
        target.TotalTimeout = TotalTimeout;
        target.PooledConnectionLifetime = PooledConnectionLifetime;
        target.PooledConnectionIdleTimeout = PooledConnectionIdleTimeout;
        target.PoolRecycleAfterTransportFailures = PoolRecycleAfterTransportFailures;
        target.MaxResponseBytes = MaxResponseBytes;
        target.EnableHttp2 = EnableHttp2;
        target.UseJitter = UseJitter;
        target.Randomizer = Randomizer;
        target.ConfigurePrimaryHandler = ConfigurePrimaryHandler;
        target.QuotaExceededCooldown = QuotaExceededCooldown;
        target.HedgingDelay = HedgingDelay;
        target.MaxHedgedAttempts = MaxHedgedAttempts;
        target.Endpoints = Endpoints is null ? null! : [.. Endpoints.Select(static e => e?.Copy()!)];
        if (RetryBudget is null)
        {
            target.RetryBudget = null!;
        }
        else
        {
            target.RetryBudget = new LlmRetryBudgetOptions();
            RetryBudget.CopyTo(target.RetryBudget);
        }

        if (CircuitBreaker is null)
        {
            target.CircuitBreaker = null!;
        }
        else
        {
            target.CircuitBreaker = new LlmCircuitBreakerOptions();
            CircuitBreaker.CopyTo(target.CircuitBreaker);
        }
    }
}
