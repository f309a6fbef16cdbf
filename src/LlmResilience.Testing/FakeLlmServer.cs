using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LlmResilience.Testing;

/// <summary>
/// An OpenAI-compatible chat-completions server on Kestrel, over real loopback sockets, that answers each request with
/// the next scripted <see cref="FakeBehavior"/> (successes, API errors, proxy pages, resets, hangs, broken streams) and
/// records every request.
/// </summary>
/// <remarks>
/// It listens on <c>127.0.0.1</c>, on a free port, HTTP/1.1 without TLS; with <see cref="FakeLlmServerOptions.UseHttps"/>,
/// TLS and HTTP/2 (negotiated by ALPN) beside HTTP/1.1. Every request, whatever its path, is read in full,
/// recorded, and then answered by one behavior: the next one enqueued, or <see cref="DefaultBehavior"/> when the script
/// is empty.
/// <code>
/// await using var server = await FakeLlmServer.StartAsync();
/// server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.Ok());
/// // point the client under test at server.BaseAddress ("http://127.0.0.1:{port}/v1/")
/// </code>
/// </remarks>
public sealed class FakeLlmServer : IAsyncDisposable
{
    private static readonly Lazy<Socket> RefusingSocket = new(BindWithoutListening);

    private readonly FakeLlmServerOptions _options;
    private readonly RequestJournal _journal = new();
    private readonly ConnectionTracker _connections = new();
    private readonly RateLimitQuota? _quota;

    // Never disposed: handlers still running after disposal read its token, and a cancelled source holds nothing.
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private int _inFlight;
    private int _disposed;

    private FakeLlmServer(FakeLlmServerOptions options)
    {
        _options = options;
        _quota = options.RequestsPerMinute is null && options.TokensPerMinute is null
            ? null
            : new RateLimitQuota(options.RequestsPerMinute, options.TokensPerMinute, options.RateLimitWindow, options.TimeProvider);
        BaseAddress = null!;
    }

    /// <summary>
    /// Gets the API base address, <c>http://127.0.0.1:{port}/v1/</c> (<c>https://</c> with <see cref="FakeLlmServerOptions.UseHttps"/>):
    /// it always ends with <c>/v1/</c>.
    /// </summary>
    public Uri BaseAddress { get; private set; }

    /// <summary>
    /// Gets the server certificate when <see cref="FakeLlmServerOptions.UseHttps"/> is set (the one given, or the
    /// self-signed one made for <c>localhost</c> and <c>127.0.0.1</c>), so a test can trust it; <see langword="null"/> without TLS.
    /// </summary>
    public X509Certificate2? Certificate { get; private set; }

    /// <summary>Gets the TCP port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Gets or sets the behavior that answers requests when the script is empty.</summary>
    /// <value>The default value is <see cref="FakeBehavior.Ok"/>.</value>
    public FakeBehavior DefaultBehavior
    {
        get => _journal.DefaultBehavior;
        set => _journal.DefaultBehavior = value;
    }

    /// <summary>Gets the number of scripted behaviors not consumed yet.</summary>
    public int PendingBehaviors => _journal.PendingBehaviors;

    /// <summary>
    /// Gets a snapshot of the recorded requests, in arrival order (<see cref="RecordedRequest.Index"/>): a request is
    /// recorded once its body was read in full, just before its behavior runs.
    /// </summary>
    public IReadOnlyList<RecordedRequest> Requests => _journal.Snapshot();

    /// <summary>Gets the number of TCP connections accepted since the server started (not cleared by <see cref="Reset"/>).</summary>
    public int ConnectionCount => _connections.Accepted;

    /// <summary>Gets the number of TCP connections open now.</summary>
    internal int OpenConnectionCount => _connections.Open;

    /// <summary>Gets the number of requests whose behavior is still running (read, not yet answered in full).</summary>
    internal int InFlightRequests => Volatile.Read(ref _inFlight);

    /// <summary>Starts a server on <c>127.0.0.1</c> and a free port.</summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started server; dispose it to stop it.</returns>
    public static async Task<FakeLlmServer> StartAsync(FakeLlmServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        var server = new FakeLlmServer((options ?? new FakeLlmServerOptions()).Snapshot());
        try
        {
            // The host is built on a clean execution context. WebApplicationFactory takes every host built on its app's
            // entry-point flow (an AsyncLocal filter on the "Microsoft.Extensions.Hosting" diagnostic events) for the app's
            // own and swaps in its TestServer: a FakeLlmServer started from an app's Program would lose its socket.
            Task start;
            using (ExecutionContext.SuppressFlow())
            {
                start = Task.Run(() => server.StartCoreAsync(cancellationToken), cancellationToken);
            }

            await start.ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Gets the address <c>http://127.0.0.1:{port}/v1/</c> of a port where connections are refused: the port is bound by a
    /// socket that never listens, so a connect gets an RST (<see cref="SocketError.ConnectionRefused"/>).
    /// </summary>
    /// <returns>The address; the same for the life of the process.</returns>
    /// <remarks>
    /// The port stays bound (to a socket that never listens) rather than being closed: a closed port could be handed to
    /// another test's server by the OS, and a client's own ephemeral port could even equal it (a TCP self-connect).
    /// </remarks>
    public static Uri GetRefusedAddress() =>
        BaseAddressOf(((IPEndPoint)RefusingSocket.Value.LocalEndPoint!).Port);

    /// <summary>Appends behaviors to the script: each answers one request, in order.</summary>
    /// <param name="behaviors">The behaviors.</param>
    /// <returns>This server.</returns>
    public FakeLlmServer Enqueue(params FakeBehavior[] behaviors)
    {
        ArgumentNullException.ThrowIfNull(behaviors);
        foreach (var behavior in behaviors)
        {
            ArgumentNullException.ThrowIfNull(behavior, nameof(behaviors));
        }

        _journal.Enqueue(behaviors);
        return this;
    }

    /// <summary>Appends the same behavior for the next <paramref name="times"/> requests.</summary>
    /// <param name="behavior">The behavior.</param>
    /// <param name="times">How many requests it answers.</param>
    /// <returns>This server.</returns>
    public FakeLlmServer Enqueue(FakeBehavior behavior, int times)
    {
        ArgumentNullException.ThrowIfNull(behavior);
        ArgumentOutOfRangeException.ThrowIfNegative(times);
        _journal.Enqueue(behavior, times);
        return this;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests were recorded.</summary>
    /// <param name="count">The 1-based number of the request to wait for.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The <paramref name="count"/>-th request (1-based).</returns>
    /// <exception cref="TimeoutException">Fewer requests arrived within <paramref name="timeout"/>.</exception>
    public Task<RecordedRequest> WaitForRequestAsync(int count, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return _journal.WaitAsync(count, timeout);
    }

    /// <summary>Clears the script and the recorded requests (request indexes start at 0 again).</summary>
    public void Reset() => _journal.Reset();

    /// <summary>
    /// Stops the server promptly: running behaviors (hangs, stalls, delays, keep-alive streams) are cancelled and their
    /// connections reset, and Kestrel gets 100 ms to drain before it aborts what is left.
    /// </summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            using (var timeout = new CancellationTokenSource(FakeLlmServerConstants.ShutdownTimeout))
            {
                try
                {
                    await _app.StopAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Kestrel aborted the connections that did not drain in time: that is all a test server needs.
                }
            }

            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _journal.Close(new ObjectDisposedException(nameof(FakeLlmServer), "The FakeLlmServer was disposed."));
    }

    private static Uri BaseAddressOf(int port) =>
        new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/v1/"));

    private static Socket BindWithoutListening()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        // The empty builder (no configuration sources, no logging providers) with Kestrel's core starts fastest.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.AllowSynchronousIO = false;
            kestrel.Limits.KeepAliveTimeout = FakeLlmServerConstants.KeepAliveTimeout;
            kestrel.Limits.MaxRequestBodySize = null;

            // Stalls and slow streams are the point here; Kestrel must not cut them short.
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;

            // IPAddress.Loopback only, never all interfaces; port 0 (the default) takes a free one, read back after start.
            kestrel.Listen(IPAddress.Loopback, _options.Port, listen =>
            {
                // The tracker runs first, on the raw TCP connection: it counts and resets sockets, TLS or not.
                listen.Use(_connections.Middleware);
                if (_options.UseHttps)
                {
                    Certificate = _options.Certificate ?? TestCertificate.Localhost;
                    listen.Protocols = _options.Protocols ?? HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(Certificate);
                }
                else
                {
                    listen.Protocols = HttpProtocols.Http1;
                }
            });
        });
        builder.Services.AddSingleton<IHostLifetime, NoConsoleLifetime>();
        if (_options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        var app = builder.Build();
        app.Run(HandleAsync);
        _app = app;
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (_options.Port != 0)
        {
            throw new IOException(
                $"FakeLlmServer could not listen on 127.0.0.1:{_options.Port.ToString(CultureInfo.InvariantCulture)} ({ex.Message}). Stop what uses that port, choose another FakeLlmServerOptions.Port, or set it to 0 for a free port.",
                ex);
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        Port = new Uri(addresses.Addresses.Single()).Port;
        BaseAddress = _options.UseHttps ? new UriBuilder(BaseAddressOf(Port)) { Scheme = Uri.UriSchemeHttps }.Uri : BaseAddressOf(Port);
    }

    private async Task HandleAsync(HttpContext http)
    {
        // Kestrel calls the application once the request headers are parsed.
        var timestamp = Stopwatch.GetTimestamp();
        var receivedAt = _options.TimeProvider.GetUtcNow();
        Interlocked.Increment(ref _inFlight);
        try
        {
            var connection = _connections.Find(http.Connection.Id);
            if (connection is not null)
            {
                connection.OnRequestStarted();
                http.Response.OnCompleted(
                    static state =>
                    {
                        ((ConnectionState)state).OnResponseCompleted();
                        return Task.CompletedTask;
                    },
                    connection);
            }

            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);
            var body = await TryReadBodyAsync(http.Request, cancellation.Token).ConfigureAwait(false);
            if (body is null)
            {
                // The client went away in the middle of its own request: nothing arrived to record or answer.
                return;
            }

            var request = ChatRequestInfo.Parse(body);
            var (recorded, behavior) = Admit(http, request, body, receivedAt, timestamp);
            try
            {
                await behavior.ExecuteAsync(new FakeRequestContext(http, request, _options, connection, timestamp, cancellation.Token)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
            {
                // The client went away, or the server is stopping, while the behavior was answering.
            }

            // RequestAborted also fires when a fault behavior ended the connection itself: SocketTermination marks those.
            if (http.RequestAborted.IsCancellationRequested && !_stopping.IsCancellationRequested && !SocketTermination.EndedByServer(http))
            {
                recorded.MarkClientAborted();
            }

            if (_stopping.IsCancellationRequested)
            {
                // Whatever was cut short by disposal must not look like a complete answer to the client.
                http.Abort();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static async Task<string?> TryReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: -1, leaveOpen: true);
            return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return null;
        }
    }

    /// <summary>Chooses the behavior (a 401 when the API key is required and wrong) and records the request.</summary>
    private (RecordedRequest Request, FakeBehavior Behavior) Admit(HttpContext http, ChatRequestInfo request, string body, DateTimeOffset receivedAt, long timestamp)
    {
        var rejection = _options.RequireApiKey && !string.Equals(FakeBehavior.BearerToken(http.Request), _options.ApiKey, StringComparison.Ordinal)
            ? FakeBehavior.Unauthorized()
            : null;
        if (rejection is null && _quota is not null)
        {
            var limits = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (!_quota.TryAdmit(body, limits))
            {
                rejection = FakeBehavior.RateLimited(limits);
            }
            else
            {
                foreach (var (name, value) in limits)
                {
                    http.Response.Headers[name] = value;
                }
            }
        }
        var (headers, bearerToken, apiKeyValue) = RecordedHeaders.Copy(http.Request.Headers);
        var path = http.Request.PathBase.Add(http.Request.Path).Value ?? "/";
        return _journal.Admit(rejection, (index, chosen) => new RecordedRequest(
            index, receivedAt, timestamp, http.Connection.Id, http.Request.Method, path, headers, bearerToken, apiKeyValue, body, request.IsStreaming, chosen.Name)
        {
            Protocol = http.Request.Protocol,
            Query = http.Request.QueryString.Value ?? string.Empty,
        });
    }

    /// <summary>Replaces the console lifetime, which would hook Ctrl+C and SIGTERM for every server a test process starts.</summary>
    private sealed class NoConsoleLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
