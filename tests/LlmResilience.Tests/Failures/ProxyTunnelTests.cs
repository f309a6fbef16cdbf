using System.Net;
using System.Net.Sockets;
using System.Text;
using LlmResilience.Tests.Helpers;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmResilience.Tests.Failures;

/// <summary>A proxy on our side that refuses the CONNECT: a connect failure that names the proxy and its answer, never an upstream's error.</summary>
public sealed class ProxyTunnelTests
{
    [Fact]
    public async Task Send_ProxyAnswersConnectWith407_ConnectFailureNamingTheProxyWithoutItsCredentials()
    {
        using var proxy = new TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        var port = ((IPEndPoint)proxy.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var connects = 0;
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var socket = await proxy.AcceptSocketAsync(stop.Token);
                var buffer = new byte[4096];
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("CONNECT api.example.test:443", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref connects);
                }

                await socket.SendAsync("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), SocketFlags.None, stop.Token);
            }
        });

        var options = TestClients.FastResilience(o => o.MaxRetryAttempts = 1);
        var connections = new RecyclingConnectionHandler(options, NullLogger.Instance, () => new SocketsHttpHandler
        {
            Proxy = new WebProxy(new Uri($"http://proxyuser:proxysecret@127.0.0.1:{port}/")),
            UseProxy = true,
        });
        using var handler = new LlmResilienceHandler(options, TimeProvider.System, NullLogger.Instance) { InnerHandler = connections };
        using var http = new HttpClient(handler);

        var error = await Assert.ThrowsAsync<LlmException>(() => http.PostAsync("https://api.example.test/v1/chat/completions", new StringContent("{}")));

        Assert.Equal(LlmFailureKind.ConnectFailure, error.Kind);
        Assert.Equal(2, error.Attempts);
        Assert.Equal(2, Volatile.Read(ref connects));
        Assert.Contains("through the proxy", error.Message);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("407", error.Message);
        Assert.Contains("HTTPS_PROXY", error.Message);
        Assert.DoesNotContain("proxysecret", error.ToString());
        Assert.Null(error.StatusCode);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }
}
