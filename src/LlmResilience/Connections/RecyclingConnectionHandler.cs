using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>
/// The primary handler: one tuned <see cref="SocketsHttpHandler"/> per authority (scheme://host:port), each replaced,
/// pool and all, after <see cref="LlmResilienceOptions.PoolRecycleAfterTransportFailures"/> transport failures in a row
/// to that authority, so the next attempt opens fresh connections instead of drawing another stale one from the pool,
/// while the connections to every other host are left alone.
/// It also asks for HTTP/2 on async https requests that left the version at its default (fallback to HTTP/1.1 is
/// kept), and accepts gzip, deflate and Brotli responses (<see cref="ResponseDecompression"/>).
/// </summary>
/// <remarks>
/// Races: a request may pick up an authority's current generation just as another request retires it. Each
/// generation counts the sends in flight; a retired generation is disposed when the last of them has its headers
/// (see <see cref="Generation"/>). Disposing a <see cref="SocketsHttpHandler"/> closes only its idle connections; a
/// body still being read keeps its connection until it completes.
/// </remarks>
internal sealed class RecyclingConnectionHandler : HttpMessageHandler
{
    private readonly Func<HttpMessageHandler> _createHandler;
    private readonly int _recycleAfter;
    private readonly bool _preferHttp2;
    private readonly ILogger _logger;
    private readonly LlmMetrics? _metrics;
    // Keyed by scheme, host and port taken from the request's Uri, whose parts are cached strings: the lookup on every
    // send allocates nothing (a "scheme://authority" string key would be built per request).
    private readonly ConcurrentDictionary<AuthorityKey, Authority> _authorities = new();
    private int _generationCount;
    private int _disposed;

    /// <param name="options">The settings of every pool (copied: later changes have no effect).</param>
    /// <param name="logger">Receives <see cref="Log.PoolRecycled"/>.</param>
    /// <param name="metrics">Counts the recycles (none when <see langword="null"/>).</param>
    /// <param name="createHandler">Builds each pool; the default is <see cref="LlmSocketsHandlerFactory.Create"/>.
    /// Tests pass a recording handler.</param>
    public RecyclingConnectionHandler(LlmResilienceOptions options, ILogger logger, Func<HttpMessageHandler>? createHandler = null, LlmMetrics? metrics = null)
    {
        var snapshot = new LlmResilienceOptions();
        options.CopyTo(snapshot);
        _createHandler = createHandler ?? (() => LlmSocketsHandlerFactory.Create(snapshot));
        _recycleAfter = options.PoolRecycleAfterTransportFailures;
        _preferHttp2 = options.EnableHttp2;
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>How many connection pools this handler has opened so far, over all authorities: one per authority
    /// when it is first called, plus one per recycle.</summary>
    public int PoolGenerations => Volatile.Read(ref _generationCount);

    /// <summary>How many connection pools this handler has opened for the authority of <paramref name="uri"/> (0 before
    /// the first request to it, 1 until its first recycle).</summary>
    public int PoolGenerationsFor(Uri uri) =>
        _authorities.TryGetValue(AuthorityKey.Of(uri), out var authority) ? Volatile.Read(ref authority.Generations) : 0;

    /// <summary>A real synchronous send (HTTP/1.1 only: <see cref="SocketsHttpHandler"/> refuses HTTP/2 synchronously,
    /// so the HTTP/2 upgrade is not applied), with the same failure counting as <see cref="SendAsync"/>.</summary>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ResponseDecompression.AddAcceptEncoding(request);
        var authority = GetAuthority(request.RequestUri);
        var generation = Acquire(authority);
        try
        {
            var response = generation.Invoker.Send(request, cancellationToken);
            OnResponse(authority, response);
            return response;
        }
        catch (Exception exception) when (_recycleAfter > 0 && TransportFailures.IsTransportFailure(exception))
        {
            OnTransportFailure(authority, generation);
            throw;
        }
        finally
        {
            generation.Release();
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_preferHttp2 && request.Version == HttpVersion.Version11 && request.VersionPolicy == HttpVersionPolicy.RequestVersionOrLower
            && request.RequestUri is { Scheme: "https" })
        {
            request.Version = HttpVersion.Version20;
        }

        ResponseDecompression.AddAcceptEncoding(request);
        Authority authority;
        Generation generation;
        try
        {
            authority = GetAuthority(request.RequestUri);
            generation = Acquire(authority);
        }
        catch (Exception exception)
        {
            // As from an async method: a disposed handler's failure comes in the task, not thrown at the caller.
            return Task.FromException<HttpResponseMessage>(exception);
        }

        if (request is AttemptRequestMessage { CanLeaseConnection: true, ConnectionLease: null } attempt)
        {
            // The attempt above ends the hold when its send returns or throws: no async frame here.
            attempt.ConnectionLease = new ConnectionLease(this, authority, generation);
            try
            {
                return generation.Invoker.SendAsync(request, cancellationToken);
            }
            catch (Exception exception)
            {
                attempt.EndLease(exception);
                return Task.FromException<HttpResponseMessage>(exception);
            }
        }

        return SendAndReleaseAsync(request, authority, generation, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAndReleaseAsync(HttpRequestMessage request, Authority authority, Generation generation, CancellationToken cancellationToken)
    {
        try
        {
            var response = await generation.Invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            OnResponse(authority, response);
            return response;
        }
        catch (Exception exception) when (_recycleAfter > 0 && TransportFailures.IsTransportFailure(exception))
        {
            OnTransportFailure(authority, generation);
            throw;
        }
        finally
        {
            generation.Release();
        }
    }

    private static void OnResponse(Authority authority, HttpResponseMessage response)
    {
        ResponseDecompression.DecodeIfCompressed(response);
        authority.OnSuccess();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (var authority in _authorities.Values)
            {
                Volatile.Read(ref authority.Current).Retire();
            }
        }

        base.Dispose(disposing);
    }

    private Authority GetAuthority(Uri? uri)
    {
        var key = AuthorityKey.Of(uri);
        return _authorities.TryGetValue(key, out var authority) ? authority : AddAuthority(key, uri);
    }

    // The first request to an authority: GetOrAdd's factory may run on several threads at once, so the pool is built
    // outside it and only the winner's is kept (the losers' never opened a connection).
    private Authority AddAuthority(AuthorityKey key, Uri? uri)
    {
        var created = new Authority(uri is { IsAbsoluteUri: true } ? $"{uri.Scheme}://{uri.Authority}" : string.Empty, new Generation(_createHandler()));
        var authority = _authorities.GetOrAdd(key, created);
        if (!ReferenceEquals(authority, created))
        {
            created.Current.Retire();
            return authority;
        }

        Interlocked.Increment(ref _generationCount);
        // Dispose sets the flag before it walks the dictionary, and here the entry is added before the flag is read
        // (the full fence keeps that read from moving ahead of the add): a pool added while the handler is disposed
        // is retired by one side or the other (Retire is idempotent).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _disposed) != 0)
        {
            created.Current.Retire();
        }

        return authority;
    }

    private Generation Acquire(Authority authority)
    {
        while (true)
        {
            // A recycle publishes the new generation before it retires the old one, so this loop spins at most while
            // that swap is in progress; only a disposed handler has a retired generation with no successor.
            var generation = Volatile.Read(ref authority.Current);
            if (generation.TryAcquire())
            {
                return generation;
            }

            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        }
    }

    private void OnTransportFailure(Authority authority, Generation failedOn)
    {
        // A failure on a pool already dropped says nothing about the fresh one: concurrent failures on the old pool
        // must not count towards recycling the new one too.
        if (!ReferenceEquals(Volatile.Read(ref authority.Current), failedOn))
        {
            return;
        }

        var failures = Interlocked.Increment(ref authority.Failures);
        if (failures < _recycleAfter)
        {
            return;
        }

        Generation replacement;
        lock (authority.SwapLock)
        {
            // Only the first of several concurrent failures on the same generation swaps it.
            if (!ReferenceEquals(authority.Current, failedOn) || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            replacement = new Generation(_createHandler());
            // Published before the old one is retired, so Acquire never finds a retired pool without a successor.
            // Interlocked (a full fence) so that the read of _disposed below cannot move ahead of it.
            Interlocked.Exchange(ref authority.Current, replacement);
            Volatile.Write(ref authority.Failures, 0);
            Interlocked.Increment(ref authority.Generations);
            Interlocked.Increment(ref _generationCount);
        }

        failedOn.Retire();
        // Dispose may have walked the authorities between the check above and the swap, retiring the old pool only.
        if (Volatile.Read(ref _disposed) != 0)
        {
            replacement.Retire();
        }

        _metrics?.RecordPoolRecycle(authority.Uri);
        Log.PoolRecycled(_logger, authority.Name, failures);
    }

    /// <summary>
    /// A send's hold on its connection pool, handed to the attempt above (<see cref="AttemptRequestMessage"/>) instead of
    /// awaited here: the attempt already awaits the send, so the pool's count, the failure run and the response's decoding
    /// are settled there, when it ends, exactly as this handler's own await would (see <see cref="SendAndReleaseAsync"/>).
    /// In a profile at 32 callers, the layer's share of a call fell from 1.2 to about 0.4 µs.
    /// </summary>
    internal readonly struct ConnectionLease
    {
        private readonly RecyclingConnectionHandler _handler;
        private readonly Authority _authority;
        private readonly Generation _generation;

        public ConnectionLease(RecyclingConnectionHandler handler, Authority authority, Generation generation) =>
            (_handler, _authority, _generation) = (handler, authority, generation);

        /// <summary>The send returned: decode the body if it is compressed, end the failure run, release the pool.</summary>
        public void End(HttpResponseMessage response)
        {
            try
            {
                OnResponse(_authority, response);
            }
            finally
            {
                _generation.Release();
            }
        }

        /// <summary>The send threw: count a transport failure towards the pool's recycle, release the pool.</summary>
        public void End(Exception failure)
        {
            try
            {
                if (_handler._recycleAfter > 0 && TransportFailures.IsTransportFailure(failure))
                {
                    _handler.OnTransportFailure(_authority, _generation);
                }
            }
            finally
            {
                _generation.Release();
            }
        }
    }

    /// <summary>Scheme, host and port: the unit a <see cref="SocketsHttpHandler"/> pools connections by.</summary>
    private readonly record struct AuthorityKey(string Scheme, string Host, int Port)
    {
        // A relative or missing address gets a pool of its own; SocketsHttpHandler rejects the request there.
        public static AuthorityKey Of(Uri? uri) =>
            uri is { IsAbsoluteUri: true } ? new(uri.Scheme, uri.Host, uri.Port) : new(string.Empty, string.Empty, -1);
    }

    /// <summary>The connection pool of one authority and its run of transport failures.</summary>
    internal sealed class Authority(string name, Generation first)
    {
        public readonly string Name = name;

        /// <summary>For the recycle metric's server tags (read on that failure path only).</summary>
        public Uri? Uri => Uri.TryCreate(Name, UriKind.Absolute, out var uri) ? uri : null;
        public readonly Lock SwapLock = new();
        public Generation Current = first;
        public int Failures;
        public int Generations = 1;

        /// <summary>Ends a run of failures. Writes only when there was one, so healthy calls from many threads do not
        /// keep taking the cache line from each other.</summary>
        public void OnSuccess()
        {
            if (Volatile.Read(ref Failures) != 0)
            {
                Volatile.Write(ref Failures, 0);
            }
        }
    }

    /// <summary>One connection pool, disposed exactly once: after it is retired and its last send has its headers.</summary>
    internal sealed class Generation(HttpMessageHandler handler)
    {
        // The whole lifecycle is one word: the low bits count sends in flight, the top bit says "retired".
        // It was two fields before: TryAcquire incremented the count and then read the flag, Retire wrote the flag and
        // then read the count. A plain write followed by a read of another field may be reordered (the write waits in
        // the store buffer), so both could read the other's old value: the acquirer saw "not retired", the retirer saw
        // "nothing in flight" and disposed the invoker under the request about to use it (ObjectDisposedException).
        // With one word every change is a single atomic operation on the same location, so the two cannot both win:
        // an acquire CASes from a value without the bit, Retire sets the bit with one Interlocked.Or, and the only
        // transition into "retired, zero in flight" (from Retire on an idle pool, or from the last Release after
        // Retire) disposes, which can happen once since the count never rises again after the bit is set.
        private const int RetiredBit = int.MinValue;
        private int _state;

        public HttpMessageInvoker Invoker { get; } = new(handler, disposeHandler: true);

        public bool TryAcquire()
        {
            var state = Volatile.Read(ref _state);
            while ((state & RetiredBit) == 0)
            {
                var seen = Interlocked.CompareExchange(ref _state, state + 1, state);
                if (seen == state)
                {
                    return true;
                }

                state = seen;
            }

            return false;
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _state) == RetiredBit)
            {
                Invoker.Dispose();
            }
        }

        public void Retire()
        {
            if (Interlocked.Or(ref _state, RetiredBit) == 0)
            {
                Invoker.Dispose();
            }
        }
    }
}
