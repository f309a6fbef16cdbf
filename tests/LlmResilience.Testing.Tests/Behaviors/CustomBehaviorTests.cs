using Microsoft.AspNetCore.Http;

namespace LlmResilience.Testing.Tests;

public sealed class CustomBehaviorTests
{
    [Fact]
    public async Task Custom_Handler_WritesTheResponseUnderItsName()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Custom("Teapot", async (context, cancellationToken) =>
        {
            context.Response.StatusCode = 418;
            await context.Response.WriteAsync("short and stout", cancellationToken);
        }));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal(418, (int)response.StatusCode);
        Assert.Equal("short and stout", await response.Content.ReadAsStringAsync());
        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        Assert.Equal("Teapot", Assert.Single(server.Requests).BehaviorName);
    }

    [Fact]
    public async Task Custom_HandlerWaitingOnToken_IsCancelledWhenTheClientLeaves()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Enqueue(FakeBehavior.Custom("Waits", async (_, cancellationToken) =>
        {
            await using var registration = cancellationToken.Register(() => cancelled.TrySetResult());
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }));
        using var client = RawClient.Create();
        using var giveUp = new CancellationTokenSource();

        var send = RawClient.PostAsync(client, server, cancellationToken: giveUp.Token);
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        await giveUp.CancelAsync();

        await Assert.ThrowsAsync<TaskCanceledException>(() => send);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Custom_BlankName_Throws()
    {
        Assert.Throws<ArgumentException>(() => FakeBehavior.Custom(" ", (_, _) => Task.CompletedTask));
    }
}
