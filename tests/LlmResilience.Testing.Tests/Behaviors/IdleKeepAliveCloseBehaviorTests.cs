using System.Net.Sockets;
using System.Net;
using System.Text;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Testing.Tests;

// What the client observes: the server closes the idle pooled connection with a FIN. SocketsHttpHandler notices that the
// pooled connection was closed (it checks an idle connection for EOF before reusing it) and sends the next request on a
// new connection by itself: the caller sees nothing. Only a request written in the instant the FIN is on its way meets a
// closed socket; that one fails as CloseBeforeHeaders or ResetBeforeHeaders does on a reused connection (no automatic retry).
public sealed class IdleKeepAliveCloseBehaviorTests
{
    [Fact]
    public async Task IdleKeepAliveClose_NextRequestAfterIdleTimeout_HandlerOpensNewConnectionAndSucceeds()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.IdleKeepAliveClose(TimeSpan.FromMilliseconds(30)));
        using var client = RawClient.Create();
        using (var first = await RawClient.PostAsync(client, server))
        {
            Assert.Equal(200, (int)first.StatusCode);
            await first.Content.ReadAsStringAsync();
        }

        Assert.True(await Eventually.TrueAsync(() => server.OpenConnectionCount == 0), "The idle connection was not closed.");
        using var second = await RawClient.PostAsync(client, server);

        Assert.Equal(200, (int)second.StatusCode);
        var requests = server.Requests;
        Assert.Equal(["IdleKeepAliveClose", "Ok"], requests.Select(r => r.BehaviorName));
        Assert.NotEqual(requests[0].ConnectionId, requests[1].ConnectionId);
        Assert.Equal(2, server.ConnectionCount);
    }

    [Fact]
    public async Task IdleKeepAliveClose_NextRequestBeforeIdleTimeout_ReusesTheConnection()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.IdleKeepAliveClose(TimeSpan.FromSeconds(5)));
        using var client = RawClient.Create();
        using (var first = await RawClient.PostAsync(client, server))
        {
            await first.Content.ReadAsStringAsync();
        }

        using var second = await RawClient.PostAsync(client, server);

        var requests = server.Requests;
        Assert.Equal(requests[0].ConnectionId, requests[1].ConnectionId);
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task IdleKeepAliveClose_LaterResponseOnTheConnection_ClosesAfterItToo()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Ok(), FakeBehavior.IdleKeepAliveClose(TimeSpan.FromMilliseconds(300)), FakeBehavior.Ok());
        using var client = RawClient.Create();
        for (var i = 0; i < 3; i++)
        {
            using var response = await RawClient.PostAsync(client, server);
            await response.Content.ReadAsStringAsync();
        }

        Assert.True(await Eventually.TrueAsync(() => server.OpenConnectionCount == 0), "The idle connection was not closed.");
        using var fourth = await RawClient.PostAsync(client, server);

        var ids = server.Requests.Select(r => r.ConnectionId).ToList();
        Assert.Equal([ids[0], ids[0], ids[0]], ids[..3]);
        Assert.NotEqual(ids[2], ids[3]);
    }

    [Fact]
    public async Task IdleKeepAliveClose_IdleConnection_ServerSendsAGracefulFin()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.IdleKeepAliveClose(TimeSpan.FromMilliseconds(30)));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        var request = $"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {RawClient.ChatBody.Length}\r\n\r\n{RawClient.ChatBody}";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));

        var received = new StringBuilder();
        var buffer = new byte[8192];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        int read;
        while ((read = await socket.ReceiveAsync(buffer, deadline.Token)) > 0)
        {
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        // Read returned 0: an end of stream (FIN), not a SocketException ConnectionReset, after one whole response.
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", received.ToString(), StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public void IdleKeepAliveClose_ZeroIdle_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.IdleKeepAliveClose(TimeSpan.Zero));
    }
}
