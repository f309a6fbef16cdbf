using System.Net;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

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
        await Task.Delay(120);
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
}
