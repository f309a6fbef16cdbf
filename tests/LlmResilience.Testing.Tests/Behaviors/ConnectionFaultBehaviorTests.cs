using System.Net.Sockets;

namespace LlmResilience.Testing.Tests;

// What the client observes (SocketsHttpHandler, HTTP/1.1, Linux):
// - ResetBeforeHeaders, new connection: HttpRequestException (HttpRequestError.Unknown) -> IOException
//   "Unable to read data from the transport connection: Connection reset by peer" -> SocketException ConnectionReset.
// - CloseBeforeHeaders, new connection: HttpRequestException (HttpRequestError.ResponseEnded) -> HttpIOException
//   "The response ended prematurely" (ResponseEnded); no SocketException in the chain.
// - Either one on a reused keep-alive connection: the same exceptions; SocketsHttpHandler does not retry by itself.
public sealed class ConnectionFaultBehaviorTests
{
    [Fact]
    public async Task ResetBeforeHeaders_NewConnection_ClientSeesConnectionReset()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders());
        using var client = RawClient.Create();

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => RawClient.PostAsync(client, server));

        Assert.Equal(HttpRequestError.Unknown, exception.HttpRequestError);
        Assert.IsType<IOException>(exception.InnerException);
        Assert.Equal(SocketError.ConnectionReset, RawClient.FindSocketException(exception)?.SocketErrorCode);
        var recorded = Assert.Single(server.Requests);
        Assert.Equal("ResetBeforeHeaders", recorded.BehaviorName);
        Assert.Equal(RawClient.ChatBody, recorded.Body);
    }

    [Fact]
    public async Task CloseBeforeHeaders_NewConnection_ClientSeesResponseEndedWithoutSocketError()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.CloseBeforeHeaders());
        using var client = RawClient.Create();

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => RawClient.PostAsync(client, server));

        Assert.Equal(HttpRequestError.ResponseEnded, exception.HttpRequestError);
        Assert.IsType<HttpIOException>(exception.InnerException);
        Assert.Null(RawClient.FindSocketException(exception));
        Assert.Equal("CloseBeforeHeaders", Assert.Single(server.Requests).BehaviorName);
    }

    [Theory]
    [InlineData("ResetBeforeHeaders", HttpRequestError.Unknown)]
    [InlineData("CloseBeforeHeaders", HttpRequestError.ResponseEnded)]
    public async Task ConnectionFault_ReusedConnection_FailsWithoutAutomaticRetry(string fault, HttpRequestError expected)
    {
        await using var server = await FakeLlmServer.StartAsync();
        var behavior = fault == "ResetBeforeHeaders" ? FakeBehavior.ResetBeforeHeaders() : FakeBehavior.CloseBeforeHeaders();
        server.Enqueue(FakeBehavior.Ok("first"), behavior, FakeBehavior.Ok("a retry would get this"));
        using var client = RawClient.Create();
        using (var first = await RawClient.PostAsync(client, server))
        {
            await first.Content.ReadAsStringAsync();
        }

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => RawClient.PostAsync(client, server));

        // The request went out whole on the pooled connection, so SocketsHttpHandler cannot know the server did not act on it:
        // it does not retry, even though no response byte came. Retrying is the caller's decision.
        Assert.Equal(expected, exception.HttpRequestError);
        var requests = server.Requests;
        Assert.Equal(["Ok", fault], requests.Select(r => r.BehaviorName));
        Assert.Equal(requests[0].ConnectionId, requests[1].ConnectionId);
        Assert.Equal(1, server.PendingBehaviors);
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task ResetBeforeHeaders_Repeatedly_IsAlwaysAReset()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), 10);

        for (var i = 0; i < 10; i++)
        {
            using var client = RawClient.Create();
            var exception = await Assert.ThrowsAsync<HttpRequestException>(() => RawClient.PostAsync(client, server));
            Assert.Equal(SocketError.ConnectionReset, RawClient.FindSocketException(exception)?.SocketErrorCode);
        }

        Assert.Equal(10, server.ConnectionCount);
    }

    [Fact]
    public async Task CloseBeforeHeaders_Repeatedly_IsNeverAReset()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.CloseBeforeHeaders(), 10);

        for (var i = 0; i < 10; i++)
        {
            using var client = RawClient.Create();
            var exception = await Assert.ThrowsAsync<HttpRequestException>(() => RawClient.PostAsync(client, server));
            Assert.Equal(HttpRequestError.ResponseEnded, exception.HttpRequestError);
        }
    }
}
