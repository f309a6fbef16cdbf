using System.Diagnostics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Resilience.Timeouts;

public sealed class TimeoutTests
{
    // A first call in a fresh process pays for JIT and a connect, which can exceed a 150 ms attempt timeout on a
    // loaded 2-core machine; the clocks under test are measured on a warm client. The warm-up is then forgotten.
    private static async Task WarmUpAsync(FakeLlmServer server, ChatCompletionsClient client)
    {
        await client.CompleteAsync(TestClients.Hello());
        server.Reset();
    }

    [Fact]
    public async Task AttemptTimeout_ServerHangs_EachAttemptTimesOutAndIsRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server, o =>
        {
            o.MaxRetryAttempts = 2;
            o.AttemptTimeout = TimeSpan.FromMilliseconds(120);
            o.BaseDelay = TimeSpan.FromMilliseconds(5);
        });
        await WarmUpAsync(server, client);
        server.DefaultBehavior = FakeBehavior.Hang();
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.Timeout, error.Kind);
        Assert.Equal(3, error.Attempts);
        // The client's own timeout, named with its value and the setting to raise (not a call's LlmRequestOptions).
        Assert.Contains("within AttemptTimeout (00:00:00.1200000)", error.Message);
        Assert.Contains("Raise LlmResilienceOptions.AttemptTimeout", error.Message);
        await server.WaitForRequestAsync(3, TimeSpan.FromSeconds(5));
        Assert.Equal(3, server.Requests.Count);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task AttemptTimeout_SlowHeadersThenOk_SecondAttemptSucceeds()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromSeconds(30), FakeBehavior.Ok()));
        using var client = TestClients.Chat(server, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMinutes(1);
            o.TotalTimeout = TimeSpan.FromMinutes(10);
        }, time: time);

        var call = client.CompleteAsync(TestClients.Hello());
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromMinutes(1));
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMilliseconds(40));
        time.Advance(TimeSpan.FromMilliseconds(40));
        var completion = await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotNull(completion.Content);
        Assert.Equal(["Delay", "Ok"], server.Requests.Select(r => r.BehaviorName.Split('(')[0]));
    }

    [Fact]
    public async Task TotalTimeout_ServerHangs_StopsAtTheDeadline()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();
        using var client = TestClients.Chat(server, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMinutes(1);
            o.TotalTimeout = TimeSpan.FromSeconds(90);
            o.BaseDelay = TimeSpan.FromSeconds(1);
            o.MaxDelay = TimeSpan.FromSeconds(10);
        }, time: time);

        var call = client.CompleteAsync(TestClients.Hello());
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMinutes(1));
        // The attempt's own timeout (60 s) ends before the deadline (90 s), so the deadline's clock is not running yet.
        Assert.DoesNotContain(TimeSpan.FromSeconds(90), time.PendingTimers());
        time.Advance(TimeSpan.FromMinutes(1));                    // attempt 1 times out at 60 s
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(30)); // the retry starts the deadline's clock
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));                    // backoff, 61 s
        await server.WaitForRequestAsync(2, TimeSpan.FromSeconds(5));
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(29));
        time.Advance(TimeSpan.FromSeconds(29));                   // the total deadline, 90 s, cuts attempt 2 short

        var error = await Assert.ThrowsAsync<LlmException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(LlmFailureKind.Timeout, error.Kind);
        Assert.Contains("within TotalTimeout (00:01:30)", error.Message);
        Assert.Contains("Raise LlmResilienceOptions.TotalTimeout", error.Message);
        Assert.Equal(2, error.Attempts);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task TotalTimeout_ACallsOwnShorterThanTheAttemptTimeout_EndsTheFirstAttempt()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();
        using var client = TestClients.Chat(server, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMinutes(2);
            o.TotalTimeout = TimeSpan.FromMinutes(5);
        }, time: time);

        var call = client.CompleteAsync(TestClients.Hello(), new LlmRequestOptions { TotalTimeout = TimeSpan.FromSeconds(90) }, CancellationToken.None);
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        // The call's deadline comes before the attempt's timeout: its clock runs from the first attempt on.
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(90));
        time.Advance(TimeSpan.FromSeconds(90));

        var error = await Assert.ThrowsAsync<LlmException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(LlmFailureKind.Timeout, error.Kind);
        // The call's own deadline, named as such, and the setting to raise is the call's.
        Assert.Contains("within the call's TotalTimeout (00:01:30)", error.Message);
        Assert.Contains("Raise LlmRequestOptions.TotalTimeout", error.Message);
        Assert.Equal(1, error.Attempts);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task TotalTimeout_ACallThatEndsWithItsFirstAttempt_NeverStartsTheDeadlinesTimer()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMinutes(1);
            o.TotalTimeout = TimeSpan.FromMinutes(5);
        }, time: time);

        await client.CompleteAsync(TestClients.Hello());
        await client.CompleteAsync(TestClients.Hello());

        // One timer per call, the attempt's; the deadline's (5 min) was never scheduled.
        Assert.Equal([TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)], time.ScheduledDueTimes());
        Assert.Equal(2, server.Requests.Count);
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
