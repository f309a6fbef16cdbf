using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>
/// The primary handler: a tuned <see cref="SocketsHttpHandler"/> that is replaced, pool and all, after
/// <see cref="LlmResilienceOptions.PoolRecycleAfterTransportFailures"/> transport failures in a row to one endpoint,
/// so the next attempt opens fresh connections instead of drawing another stale one from the pool.
/// It also asks for HTTP/2 on https requests that left the version at its default (fallback to HTTP/1.1 is kept),
/// and accepts gzip, deflate and Brotli responses (<see cref="ResponseDecompression"/>).
/// </summary>
/// <remarks>
/// Races: a request may pick up the current generation just as another request retires it. Each generation counts
/// the sends in flight; a retired generation is disposed when the last of them has its headers. Disposing a
/// <see cref="SocketsHttpHandler"/> closes only its idle connections; a body still being read keeps its connection
/// until it completes.
/// </remarks>
internal sealed class RecyclingConnectionHandler : HttpMessageHandler
{
    private readonly Func<SocketsHttpHandler> _createHandler;
    private readonly int _recycleAfter;
    private readonly bool _preferHttp2;
    private readonly ILogger _logger;
    private readonly LlmMetrics? _metrics;
    private readonly ConcurrentDictionary<string, int> _failuresByEndpoint = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _swapLock = new();
    private Generation _current;
    private int _generationCount = 1;
    private bool _anyFailures;

    public RecyclingConnectionHandler(LlmResilienceOptions options, ILogger logger, Func<SocketsHttpHandler>? createHandler = null, LlmMetrics? metrics = null)
    {
        var snapshot = new LlmResilienceOptions();
        options.CopyTo(snapshot);
        _createHandler = createHandler ?? (() => LlmSocketsHandlerFactory.Create(snapshot));
        _recycleAfter = options.PoolRecycleAfterTransportFailures;
        _preferHttp2 = options.EnableHttp2;
        _logger = logger;
        _metrics = metrics;
        _current = new Generation(_createHandler());
    }

    /// <summary>How many connection pools this handler has used so far (1 until the first recycle).</summary>
    public int PoolGenerations => Volatile.Read(ref _generationCount);

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_preferHttp2 && request.Version == HttpVersion.Version11 && request.VersionPolicy == HttpVersionPolicy.RequestVersionOrLower
            && request.RequestUri is { Scheme: "https" })
        {
            request.Version = HttpVersion.Version20;
        }

        ResponseDecompression.AddAcceptEncoding(request);
        var generation = Acquire();
        try
        {
            var response = await generation.Invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            ResponseDecompression.DecodeIfCompressed(response);
            // ConcurrentDictionary.IsEmpty takes every lock when the dictionary is empty, that is on every healthy
            // call; a flag set by the first failure keeps the happy path lock-free.
            if (Volatile.Read(ref _anyFailures))
            {
                _failuresByEndpoint.TryRemove(EndpointKey(request), out _);
            }

            return response;
        }
        catch (Exception exception) when (_recycleAfter > 0 && TransportFailures.IsTransportFailure(exception))
        {
            OnTransportFailure(request, generation);
            throw;
        }
        finally
        {
            generation.Release();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Volatile.Read(ref _current).Retire();
        }

        base.Dispose(disposing);
    }

    private Generation Acquire()
    {
        while (true)
        {
            var generation = Volatile.Read(ref _current);
            if (generation.TryAcquire())
            {
                return generation;
            }
        }
    }

    private void OnTransportFailure(HttpRequestMessage request, Generation failedOn)
    {
        var key = EndpointKey(request);
        Volatile.Write(ref _anyFailures, true);
        var failures = _failuresByEndpoint.AddOrUpdate(key, 1, static (_, n) => n + 1);
        if (failures < _recycleAfter)
        {
            return;
        }

        lock (_swapLock)
        {
            // Only the first of several concurrent failures on the same generation swaps it.
            if (!ReferenceEquals(_current, failedOn))
            {
                return;
            }

            Volatile.Write(ref _current, new Generation(_createHandler()));
            Interlocked.Increment(ref _generationCount);
        }

        _failuresByEndpoint.TryRemove(key, out _);
        failedOn.Retire();
        _metrics?.RecordPoolRecycle(request.RequestUri);
        Log.PoolRecycled(_logger, key, failures);
    }

    private static string EndpointKey(HttpRequestMessage request) =>
        request.RequestUri is { IsAbsoluteUri: true } uri ? $"{uri.Scheme}://{uri.Authority}" : string.Empty;

    private sealed class Generation(SocketsHttpHandler handler)
    {
        private int _inFlight;
        private int _retired;
        private int _disposed;

        public HttpMessageInvoker Invoker { get; } = new(handler, disposeHandler: true);

        public bool TryAcquire()
        {
            Interlocked.Increment(ref _inFlight);
            if (Volatile.Read(ref _retired) == 0)
            {
                return true;
            }

            Release();
            return false;
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _retired) != 0)
            {
                DisposeOnce();
            }
        }

        public void Retire()
        {
            Volatile.Write(ref _retired, 1);
            if (Volatile.Read(ref _inFlight) == 0)
            {
                DisposeOnce();
            }
        }

        private void DisposeOnce()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Invoker.Dispose();
            }
        }
    }
}
