using System.Diagnostics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Resilience.Timeouts;

public sealed class TimeoutTests
{
    [Fact]
    public async Task AttemptTimeout_ServerHangs_EachAttemptTimesOutAndIsRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();
        using var client = TestClients.Chat(server, o =>
        {
            o.MaxRetryAttempts = 2;
            o.AttemptTimeout = TimeSpan.FromMilliseconds(120);
            o.BaseDelay = TimeSpan.FromMilliseconds(5);
        });
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.Timeout, error.Kind);
        Assert.True(3 == error.Attempts, error.ToString());
        Assert.Contains("AttemptTimeout", error.Message);
        Assert.Equal(3, server.Requests.Count);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task AttemptTimeout_SlowHeadersThenOk_SecondAttemptSucceeds()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromSeconds(3), FakeBehavior.Ok()));
        using var client = TestClients.Chat(server, o => o.AttemptTimeout = TimeSpan.FromMilliseconds(150));

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.NotNull(completion.Content);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task TotalTimeout_ServerHangs_StopsAtTheDeadline()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();
        using var client = TestClients.Chat(server, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(150);
            o.TotalTimeout = TimeSpan.FromMilliseconds(400);
            o.BaseDelay = TimeSpan.FromMilliseconds(5);
        });
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.Timeout, error.Kind);
        Assert.Contains("TotalTimeout", error.Message);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(380), TimeSpan.FromSeconds(2));
        // Attempts at about 0, 155 and 310 ms; the deadline cuts the last one short.
        Assert.InRange(server.Requests.Count, 2, 3);
        Assert.InRange(error.Attempts, server.Requests.Count, server.Requests.Count + 1);
    }

    [Fact]
    public async Task AttemptTimeout_DrivenByTheInjectedClock()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();
        using var client = TestClients.Chat(server, o =>
        {
            o.MaxRetryAttempts = 0;
            o.AttemptTimeout = TimeSpan.FromMinutes(10);
            o.TotalTimeout = TimeSpan.FromMinutes(20);
        }, time: time);

        var call = client.CompleteAsync(TestClients.Hello());
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMinutes(10));
        time.Advance(TimeSpan.FromMinutes(10));

        var error = await Assert.ThrowsAsync<LlmException>(() => call.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(LlmFailureKind.Timeout, error.Kind);
        Assert.Equal(1, error.Attempts);
    }
}
