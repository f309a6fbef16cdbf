using System.Diagnostics;
using System.Net;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmResilience.Tests.Connections;

public sealed class RecyclingConnectionHandlerTests
{
    private static HttpRequestMessage Post(FakeLlmServer server) => new(HttpMethod.Post, new Uri(server.BaseAddress, "chat/completions"))
    {
        Content = new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
    };

    [Fact]
    public async Task Recycle_AfterThreeTransportFailuresInARow_DropsThePool()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var options = TestClients.FastResilience(o => o.BaseDelay = TimeSpan.FromMilliseconds(5));
        var (client, connections) = TestClients.Pipeline(options);
        using var _ = client;

        // Warm a pooled connection, then fail three attempts in a row.
        (await client.SendAsync(Post(server))).Dispose();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 3);
        using var response = await client.SendAsync(Post(server));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, connections.PoolGenerations);
        var requests = server.Requests;
        // The attempt after the recycle came over a connection never seen before.
        Assert.DoesNotContain(requests[^1].ConnectionId, requests.Take(requests.Count - 1).Select(r => r.ConnectionId));
    }

    [Fact]
    public async Task Recycle_FailuresInterruptedBySuccess_DoNotRecycle()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var options = TestClients.FastResilience(o => o.BaseDelay = TimeSpan.FromMilliseconds(5));
        var (client, connections) = TestClients.Pipeline(options);
        using var _ = client;

        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 2);
        (await client.SendAsync(Post(server))).Dispose();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 2);
        (await client.SendAsync(Post(server))).Dispose();

        Assert.Equal(1, connections.PoolGenerations);
    }

    [Fact]
    public async Task Recycle_StreamInFlightOnTheOldPool_CompletesNormally()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var options = TestClients.FastResilience(o => o.BaseDelay = TimeSpan.FromMilliseconds(5));
        var (client, connections) = TestClients.Pipeline(options);
        using var _ = client;

        server.Enqueue(FakeBehavior.OkStream(["a", "b", "c", "d"], TimeSpan.FromMilliseconds(60)));
        var streaming = Post(server);
        streaming.Content = new StringContent("""{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json");
        using var streamResponse = await client.SendAsync(streaming, HttpCompletionOption.ResponseHeadersRead);

        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 3);
        (await client.SendAsync(Post(server))).Dispose();
        Assert.Equal(2, connections.PoolGenerations);

        var body = await streamResponse.Content.ReadAsStringAsync();
        Assert.Contains("data: [DONE]", body);
    }

    [Fact]
    public async Task IdleKeepAliveClose_NextRequestStillSucceeds()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.IdleKeepAliveClose(TimeSpan.FromMilliseconds(30)));
        using var client = TestClients.Chat(server);

        await client.CompleteAsync(TestClients.Hello());
        // Wait for the server's FIN to be on the wire (the pool checks for it before reusing), not a fixed time.
        Assert.True(await Eventually.TrueAsync(() => server.OpenConnectionCount == 0), "The idle connection was not closed.");
        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.NotNull(completion.Content);
        var requests = server.Requests;
        Assert.NotEqual(requests[0].ConnectionId, requests[^1].ConnectionId);
    }

    [Fact]
    public async Task Http2_HttpsRequestsAtTheDefaultVersion_AreUpgradedWithFallback()
    {
        var options = TestClients.FastResilience(o => o.MaxRetryAttempts = 0);
        using var connections = new RecyclingConnectionHandler(options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var invoker = new HttpMessageInvoker(connections);
        var refused = FakeLlmServer.GetRefusedAddress();
        using var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(refused) { Scheme = "https" }.Uri);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => invoker.SendAsync(request, CancellationToken.None));

        Assert.Equal(HttpVersion.Version20, request.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionOrLower, request.VersionPolicy);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    [InlineData("deflate")]
    public async Task Decompression_CompressedResponses_AreDecoded(string encoding)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Custom("Compressed", async (context, cancellationToken) =>
        {
            var json = System.Text.Encoding.UTF8.GetBytes("""{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"squeezed"},"finish_reason":"stop"}]}""");
            using var buffer = new MemoryStream();
            await using (Stream compressor = encoding switch
            {
                "gzip" => new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true),
                "br" => new System.IO.Compression.BrotliStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true),
                _ => new System.IO.Compression.ZLibStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true),
            })
            {
                await compressor.WriteAsync(json, cancellationToken);
            }

            context.Response.ContentType = "application/json";
            context.Response.Headers.ContentEncoding = encoding;
            context.Response.ContentLength = buffer.Length;
            await context.Response.Body.WriteAsync(buffer.ToArray(), cancellationToken);
        }));
        using var client = TestClients.Chat(server);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("squeezed", completion.Content);
        Assert.Equal("gzip, deflate, br", server.Requests[0].Headers["Accept-Encoding"]);
    }

    [Fact]
    public void SocketsHandler_IsTunedFromOptions()
    {
        var options = new LlmResilienceOptions();
        using var handler = LlmSocketsHandlerFactory.Create(options);

        Assert.Equal(TimeSpan.FromSeconds(5), handler.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), handler.PooledConnectionLifetime);
        Assert.Equal(TimeSpan.FromSeconds(30), handler.PooledConnectionIdleTimeout);
        Assert.True(handler.EnableMultipleHttp2Connections);
        Assert.Equal(DecompressionMethods.None, handler.AutomaticDecompression); // ResponseDecompression does it, cheaper
        Assert.True(handler.UseProxy);
        Assert.False(handler.AllowAutoRedirect);
    }

    [Fact]
    public async Task Recycle_TransportFailuresOnOneAuthority_LeaveTheOtherAuthoritysConnections()
    {
        await using var failing = await FakeLlmServer.StartAsync();
        await using var healthy = await FakeLlmServer.StartAsync();
        var options = TestClients.FastResilience(o => o.MaxRetryAttempts = 0);
        var connections = new RecyclingConnectionHandler(options, NullLogger.Instance);
        using var client = new HttpClient(connections) { Timeout = Timeout.InfiniteTimeSpan };

        (await client.SendAsync(Post(failing))).Dispose();
        (await client.SendAsync(Post(healthy))).Dispose();
        failing.Enqueue(FakeBehavior.ResetBeforeHeaders(), 3);
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Post(failing)));
            // Successes on another authority do not end the failing one's run of failures.
            (await client.SendAsync(Post(healthy))).Dispose();
        }

        (await client.SendAsync(Post(failing))).Dispose();

        Assert.Equal(2, connections.PoolGenerationsFor(failing.BaseAddress));
        Assert.Equal(1, connections.PoolGenerationsFor(healthy.BaseAddress));
        Assert.Equal(3, connections.PoolGenerations);
        // The healthy server's pooled connection survived the other pool's recycle: every request rode on it.
        var healthyRequests = healthy.Requests;
        Assert.Equal(4, healthyRequests.Count);
        Assert.Single(healthyRequests.Select(r => r.ConnectionId).Distinct());
        Assert.Equal(1, healthy.ConnectionCount);
        var failingRequests = failing.Requests;
        Assert.DoesNotContain(failingRequests[^1].ConnectionId, failingRequests.Take(failingRequests.Count - 1).Select(r => r.ConnectionId));
    }

    [Fact]
    public void PoolGenerationsFor_AnAuthorityNeverCalled_IsZero()
    {
        using var connections = new RecyclingConnectionHandler(TestClients.FastResilience(), NullLogger.Instance);

        Assert.Equal(0, connections.PoolGenerationsFor(new Uri("https://api.example.com/v1/")));
        Assert.Equal(0, connections.PoolGenerations);
    }

    [Fact]
    public async Task Send_Synchronous_OverARealSocket_SucceedsAndRecyclesAfterTransportFailures()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var options = TestClients.FastResilience(o => o.MaxRetryAttempts = 0);
        var connections = new RecyclingConnectionHandler(options, NullLogger.Instance);
        using var client = new HttpClient(connections) { Timeout = Timeout.InfiniteTimeSpan };

        using (var warm = client.Send(Post(server)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 3);
        for (var i = 0; i < 3; i++)
        {
            Assert.Throws<HttpRequestException>(() => client.Send(Post(server)));
        }

        using var response = client.Send(Post(server));
        using var reader = new StreamReader(response.Content.ReadAsStream());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Hello from FakeLlmServer.", reader.ReadToEnd());
        Assert.Equal(2, connections.PoolGenerationsFor(server.BaseAddress));
        var requests = server.Requests;
        Assert.DoesNotContain(requests[^1].ConnectionId, requests.Take(requests.Count - 1).Select(r => r.ConnectionId));
    }

    [Fact]
    public void Send_Synchronous_CallsTheInnerHandlersSyncSendWithoutHttp2Upgrade()
    {
        var inner = new RecordingHandler();
        using var connections = new RecyclingConnectionHandler(TestClients.FastResilience(), NullLogger.Instance, () => inner);
        using var invoker = new HttpMessageInvoker(connections);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.example.com/v1/models");

        using var response = invoker.Send(request, CancellationToken.None);

        Assert.Equal(1, inner.SyncSends);
        Assert.Equal(0, inner.AsyncSends);
        // SocketsHttpHandler refuses HTTP/2 synchronously, so the sync path must leave the version alone.
        Assert.Equal(HttpVersion.Version11, request.Version);
        Assert.Equal("gzip, deflate, br", string.Join(", ", request.Headers.AcceptEncoding));
    }

    [Fact]
    public async Task SendAsync_AfterDispose_ThrowsObjectDisposedInsteadOfSpinning()
    {
        var connections = new RecyclingConnectionHandler(TestClients.FastResilience(), NullLogger.Instance, () => new RecordingHandler());
        using var invoker = new HttpMessageInvoker(connections, disposeHandler: false);
        using (var first = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:1/"), CancellationToken.None))
        {
        }

        connections.Dispose();
        Task<HttpResponseMessage>? returned = null;
        var send = Task.Run(() => returned = invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:1/"), CancellationToken.None));

        await Assert.ThrowsAsync<ObjectDisposedException>(() => send.WaitAsync(TimeSpan.FromSeconds(10)));
        // In the task, as an async method would, not thrown at the caller.
        Assert.True(returned is { IsFaulted: true });
    }

    [Fact]
    public void Generation_RetiredWithSendsInFlight_DisposesOnceAfterTheLastRelease()
    {
        var inner = new RecordingHandler();
        var generation = new RecyclingConnectionHandler.Generation(inner);
        Assert.True(generation.TryAcquire());
        Assert.True(generation.TryAcquire());

        generation.Retire();
        Assert.False(generation.TryAcquire());
        generation.Release();
        Assert.Equal(0, inner.Disposals);
        generation.Release();
        Assert.Equal(1, inner.Disposals);
        generation.Retire();
        Assert.Equal(1, inner.Disposals);
    }

    [Fact]
    public void Generation_RetiredIdle_DisposesAtOnce()
    {
        var inner = new RecordingHandler();
        var generation = new RecyclingConnectionHandler.Generation(inner);
        Assert.True(generation.TryAcquire());
        generation.Release();
        Assert.Equal(0, inner.Disposals);

        generation.Retire();

        Assert.Equal(1, inner.Disposals);
        Assert.False(generation.TryAcquire());
    }

    [Fact]
    public void Generation_AcquireRacingRetire_NeverSendsOnADisposedHandler()
    {
        // One thread acquires and sends while another retires the same generation, in lock step, thousands of times.
        // The old two-field state let both win now and then (see Generation): the send then hit ObjectDisposedException.
        // Bounded by a count and by a time budget, so a loaded machine makes the test weaker, never slower.
        const int Iterations = 20_000;
        var budget = TimeSpan.FromMilliseconds(300);
        var handlers = new RecordingHandler[Iterations];
        var generations = new RecyclingConnectionHandler.Generation[Iterations];
        for (var i = 0; i < Iterations; i++)
        {
            handlers[i] = new RecordingHandler();
            generations[i] = new RecyclingConnectionHandler.Generation(handlers[i]);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:1/");
        int acquirerAt = -1, retirerAt = -1, stop = 0, sentOnDisposed = 0, done = 0;
        var retirer = new Thread(() =>
        {
            for (var i = 0; i < Iterations; i++)
            {
                Volatile.Write(ref retirerAt, i);
                if (!WaitFor(ref acquirerAt, i, ref stop))
                {
                    return;
                }

                generations[i].Retire();
            }
        }) { IsBackground = true };
        var clock = Stopwatch.StartNew();
        retirer.Start();
        for (var i = 0; i < Iterations && clock.Elapsed < budget; i++)
        {
            Volatile.Write(ref acquirerAt, i);
            if (!WaitFor(ref retirerAt, i, ref stop))
            {
                break;
            }

            var generation = generations[i];
            if (generation.TryAcquire())
            {
                // Held from here to Release: a disposal before the send's own check throws ObjectDisposedException,
                // any later one lands while held. Either way the race cannot go unnoticed.
                handlers[i].Hold();
                try
                {
                    generation.Invoker.Send(request, CancellationToken.None).Dispose();
                }
                catch (ObjectDisposedException)
                {
                    sentOnDisposed++;
                }
                finally
                {
                    handlers[i].Unhold();
                    generation.Release();
                }
            }

            done = i + 1;
        }

        Volatile.Write(ref stop, 1);
        Assert.True(retirer.Join(TimeSpan.FromSeconds(10)));
        foreach (var generation in generations)
        {
            generation.Retire(); // the ones the retirer did not reach; a second Retire must be harmless
        }

        Assert.True(done > 0);
        Assert.Equal(0, sentOnDisposed);
        Assert.All(handlers, h => Assert.Equal(0, h.DisposedWhileHeld));
        Assert.All(handlers, h => Assert.Equal(1, h.Disposals));
    }

    [Fact]
    public async Task Lease_UnderThePipeline_EachSendHandsItsPoolUp_AndARecycledPoolIsDisposedOnceItsLastAttemptEnds()
    {
        // The pipeline directly over the connections: each send's hold on its pool is handed to the attempt, which ends it.
        // A hold never ended would keep the recycled pool from ever being disposed; one ended twice would dispose the new one.
        await using var server = await FakeLlmServer.StartAsync();
        var options = TestClients.FastResilience(o => o.BaseDelay = TimeSpan.FromMilliseconds(5));
        var pools = new System.Collections.Concurrent.ConcurrentQueue<PoolProbe>();
        var connections = new RecyclingConnectionHandler(options, NullLogger.Instance, () =>
        {
            var pool = new PoolProbe { InnerHandler = LlmSocketsHandlerFactory.Create(options) };
            pools.Enqueue(pool);
            return pool;
        });
        using var client = new HttpClient(new LlmResilienceHandler(options, TimeProvider.System, NullLogger.Instance) { InnerHandler = connections })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

        (await client.SendAsync(Post(server))).Dispose();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 3);
        using var response = await client.SendAsync(Post(server));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (first, second) = (pools.ElementAt(0), pools.ElementAt(1));
        Assert.Equal(2, pools.Count);
        Assert.Equal((4, 4), (first.Sends, first.SendsWithALease));
        Assert.Equal((1, 1), (second.Sends, second.SendsWithALease));
        Assert.Equal(1, first.Disposals);
        Assert.Equal(0, second.Disposals);
    }

    [Fact]
    public async Task Lease_AHandlerBetweenThatReadsTheBody_KeepsItsOwnFrame_AndSeesTheBodyDecoded()
    {
        // Decoding happens where the hold ends: with a handler of the app's between the pipeline and the connections, the
        // hold stays below it, so that it reads JSON, not gzip.
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Custom("Compressed", async (context, cancellationToken) =>
        {
            using var buffer = new MemoryStream();
            await using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                await gzip.WriteAsync("""{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"squeezed"},"finish_reason":"stop"}]}"""u8.ToArray(), cancellationToken);
            }

            context.Response.ContentType = "application/json";
            context.Response.Headers.ContentEncoding = "gzip";
            await context.Response.Body.WriteAsync(buffer.ToArray(), cancellationToken);
        }));
        var options = TestClients.FastResilience();
        var pools = new System.Collections.Concurrent.ConcurrentQueue<PoolProbe>();
        var connections = new RecyclingConnectionHandler(options, NullLogger.Instance, () =>
        {
            var pool = new PoolProbe { InnerHandler = LlmSocketsHandlerFactory.Create(options) };
            pools.Enqueue(pool);
            return pool;
        });
        var reader = new BodyReadingHandler { InnerHandler = connections };
        using var client = new HttpClient(new LlmResilienceHandler(options, TimeProvider.System, NullLogger.Instance) { InnerHandler = reader })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

        using var response = await client.SendAsync(Post(server));

        Assert.Contains("\"squeezed\"", reader.Bodies.Single());
        Assert.Contains("\"squeezed\"", await response.Content.ReadAsStringAsync());
        Assert.Equal((1, 0), (pools.Single().Sends, pools.Single().SendsWithALease));
    }

    // Spins (yielding, never sleeping) until the other thread reaches iteration i; false once the test is stopping.
    private static bool WaitFor(ref int other, int i, ref int stop)
    {
        var spinner = default(SpinWait);
        while (Volatile.Read(ref other) < i)
        {
            if (Volatile.Read(ref stop) != 0)
            {
                return false;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }

        return true;
    }

    /// <summary>Answers 200 at once and records how it was called and whether it was disposed while a caller held it.</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        private int _held;
        private int _syncSends;
        private int _asyncSends;
        private int _disposals;
        private int _disposedWhileHeld;

        public int SyncSends => Volatile.Read(ref _syncSends);

        public int AsyncSends => Volatile.Read(ref _asyncSends);

        public int Disposals => Volatile.Read(ref _disposals);

        public int DisposedWhileHeld => Volatile.Read(ref _disposedWhileHeld);

        public void Hold() => Interlocked.Increment(ref _held);

        public void Unhold() => Interlocked.Decrement(ref _held);

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _syncSends);
            return new HttpResponseMessage(HttpStatusCode.OK);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asyncSends);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Interlocked.Increment(ref _disposals);
                if (Volatile.Read(ref _held) != 0)
                {
                    Interlocked.Increment(ref _disposedWhileHeld);
                }
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A pool's stand-in wrapper: counts its sends (and those whose hold went up to the attempt) and its disposals.</summary>
    private sealed class PoolProbe : DelegatingHandler
    {
        private int _sends;
        private int _sendsWithALease;
        private int _disposals;

        public int Sends => Volatile.Read(ref _sends);

        public int SendsWithALease => Volatile.Read(ref _sendsWithALease);

        public int Disposals => Volatile.Read(ref _disposals);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _sends);
            if (request is AttemptRequestMessage { ConnectionLease: not null })
            {
                Interlocked.Increment(ref _sendsWithALease);
            }

            return base.SendAsync(request, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Interlocked.Increment(ref _disposals);
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>An app's handler that reads every response body (as a body-logging handler would).</summary>
    private sealed class BodyReadingHandler : DelegatingHandler
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Bodies { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            Bodies.Enqueue(await response.Content.ReadAsStringAsync(cancellationToken));
            return response;
        }
    }
}
