using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Xunit.Abstractions;

namespace LlmResilience.Tests.Connections;

/// <summary>HTTPS and HTTP/2 end to end, over real loopback sockets: ALPN, multiplexing, fallback, recycling, TLS failures.</summary>
public sealed class TlsTests(ITestOutputHelper output)
{
    private static HttpRequestMessage Post(FakeLlmServer server) => new(HttpMethod.Post, new Uri(server.BaseAddress, "chat/completions"))
    {
        Content = new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
    };

    /// <summary>Trusts exactly <paramref name="certificate"/> as a root, the way a custom CA bundle is configured.</summary>
    private static Action<SocketsHttpHandler> Trust(X509Certificate2 certificate) => handler =>
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(certificate);
        handler.SslOptions.CertificateChainPolicy = policy;
    };

    private static Task<FakeLlmServer> StartHttpsAsync(HttpProtocols? protocols = null, X509Certificate2? certificate = null) =>
        FakeLlmServer.StartAsync(new FakeLlmServerOptions { UseHttps = true, Protocols = protocols, Certificate = certificate });

    [Fact]
    public async Task SendAsync_HttpsServerOfferingHttp2_NegotiatesHttp2ByAlpn()
    {
        await using var server = await StartHttpsAsync();
        var (client, _) = TestClients.Pipeline(TestClients.FastResilience(o => o.ConfigurePrimaryHandler = Trust(server.Certificate!)));
        using var _ = client;

        using var response = await client.SendAsync(Post(server));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/2", server.Requests.Single().Protocol);
        Assert.StartsWith("https://127.0.0.1:", server.BaseAddress.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteAsync_TwentyConcurrentCallsOverHttp2_ShareAtMostTwoConnections()
    {
        await using var server = await StartHttpsAsync();
        // Each answer waits a little, so the calls really are in flight together.
        server.DefaultBehavior = FakeBehavior.Delay(TimeSpan.FromMilliseconds(100), FakeBehavior.Ok());
        using var client = TestClients.Chat(server, o => o.ConfigurePrimaryHandler = Trust(server.Certificate!));

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.CompleteAsync(TestClients.Hello())));

        Assert.All(answers, answer => Assert.False(string.IsNullOrEmpty(answer.Content)));
        Assert.Equal(20, server.Requests.Count);
        Assert.All(server.Requests, request => Assert.Equal("HTTP/2", request.Protocol));
        Assert.InRange(server.ConnectionCount, 1, 2);
        Assert.InRange(server.Requests.Select(r => r.ConnectionId).Distinct().Count(), 1, 2);
    }

    [Fact]
    public async Task SendAsync_HttpsServerOfferingOnlyHttp1_FallsBackToHttp11()
    {
        await using var server = await StartHttpsAsync(HttpProtocols.Http1);
        var (client, _) = TestClients.Pipeline(TestClients.FastResilience(o => o.ConfigurePrimaryHandler = Trust(server.Certificate!)));
        using var _ = client;

        using var response = await client.SendAsync(Post(server));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("HTTP/1.1", server.Requests.Single().Protocol);
    }

    [Fact]
    public async Task Recycle_TransportFailuresOnAnHttp2Connection_DropThePool()
    {
        await using var server = await StartHttpsAsync();
        var options = TestClients.FastResilience(o =>
        {
            o.BaseDelay = TimeSpan.FromMilliseconds(5);
            o.ConfigurePrimaryHandler = Trust(server.Certificate!);
        });
        var (client, connections) = TestClients.Pipeline(options);
        using var _ = client;

        // Warm an HTTP/2 connection, then reset the TCP connection under three attempts in a row.
        (await client.SendAsync(Post(server))).Dispose();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 3);
        using var response = await client.SendAsync(Post(server));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(2, connections.PoolGenerations);
        var requests = server.Requests;
        Assert.Equal(5, requests.Count);
        Assert.All(requests, request => Assert.Equal("HTTP/2", request.Protocol));
        // The attempt after the recycle came over a connection never seen before.
        Assert.DoesNotContain(requests[^1].ConnectionId, requests.Take(requests.Count - 1).Select(r => r.ConnectionId));
    }

    [Fact]
    public async Task CompleteAsync_UntrustedCertificate_FailsAtOnceWithoutRetry()
    {
        await using var server = await StartHttpsAsync();
        using var client = TestClients.Chat(server);

        await AssertFailsAtOnceAsync(server, client, "certificate is not trusted", "ConfigurePrimaryHandler");
    }

    [Fact]
    public async Task CompleteAsync_CertificateForAnotherName_FailsAtOnceWithNameMismatch()
    {
        using var other = TestCertificate.Create("other.example");
        await using var server = await StartHttpsAsync(certificate: other);
        // Trusted, so the only thing wrong is the name: the certificate is not for 127.0.0.1.
        using var client = TestClients.Chat(server, o => o.ConfigurePrimaryHandler = Trust(other));

        await AssertFailsAtOnceAsync(server, client, "not valid for the host name '127.0.0.1'");
    }

    [Fact]
    public async Task CompleteAsync_HttpsToAPlainHttpPort_FailsAtOnceSayingTheServerDoesNotSpeakTls()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var https = new UriBuilder(server.BaseAddress) { Scheme = Uri.UriSchemeHttps }.Uri;
        using var client = TestClients.Chat(https);

        await AssertFailsAtOnceAsync(server, client, "did not answer in TLS", "http://");
    }

    [Fact]
    public async Task CompleteAsync_ConfigurePrimaryHandlerPinningTheThumbprint_TrustsTheServer()
    {
        await using var server = await StartHttpsAsync();
        var thumbprint = server.Certificate!.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var calls = 0;
        using var client = TestClients.Chat(server, o => o.ConfigurePrimaryHandler = handler =>
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                Interlocked.Increment(ref calls);
                return certificate is X509Certificate2 presented
                    && presented.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256) == thumbprint;
            });

        var answer = await client.CompleteAsync(TestClients.Hello());

        Assert.False(string.IsNullOrEmpty(answer.Content));
        Assert.Equal(1, Volatile.Read(ref calls));
        Assert.Equal("HTTP/2", server.Requests.Single().Protocol);
    }

    [Fact]
    public void Create_ConfigurePrimaryHandler_RunsAfterTheDefaults()
    {
        var options = new LlmResilienceOptions
        {
            ConfigurePrimaryHandler = handler =>
            {
                Assert.Equal(TimeSpan.FromSeconds(5), handler.ConnectTimeout); // our default is already there
                handler.MaxConnectionsPerServer = 7;
                handler.UseProxy = false;
            },
        };

        using var handler = LlmSocketsHandlerFactory.Create(options);

        Assert.Equal(7, handler.MaxConnectionsPerServer);
        Assert.False(handler.UseProxy);
        Assert.False(handler.AllowAutoRedirect);
    }

    [Fact]
    public void CopyTo_ConfigurePrimaryHandler_IsCopied()
    {
        Action<SocketsHttpHandler> configure = _ => { };
        var target = new LlmResilienceOptions();

        new LlmResilienceOptions { ConfigurePrimaryHandler = configure }.CopyTo(target);

        Assert.Same(configure, target.ConfigurePrimaryHandler);
    }

    /// <summary>
    /// The call fails with a non-retried connect failure whose message names the problem and its fix, in well under a
    /// second, after one TLS handshake (one TCP connection from the server's view, no request).
    /// </summary>
    private async Task AssertFailsAtOnceAsync(FakeLlmServer server, ChatCompletionsClient client, params string[] saying)
    {
        var stopwatch = Stopwatch.StartNew();
        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));
        var elapsed = stopwatch.Elapsed;
        output.WriteLine($"Failed in {elapsed.TotalMilliseconds:F0} ms: {exception.Message}");

        Assert.Equal(LlmFailureKind.ConnectFailure, exception.Kind);
        Assert.Equal(1, exception.Attempts);
        Assert.All(saying.Append("Retrying will not help"), text => Assert.Contains(text, exception.Message, StringComparison.Ordinal));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"The TLS failure took {elapsed.TotalMilliseconds:F0} ms.");
        Assert.Empty(server.Requests);
        Assert.Equal(1, server.ConnectionCount);
    }
}
