using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Resilience.Retry;

public sealed class RetryBudgetTests
{
    [Fact]
    public async Task EndpointFailingEveryCall_AttemptsPerCallStayWithinTheBudget()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.ServerError(503);
        using var client = TestClients.Chat(server, o =>
        {
            o.BaseDelay = TimeSpan.FromMilliseconds(1);
            o.MaxDelay = TimeSpan.FromMilliseconds(2);
            o.RetryBudget.MinRetries = 5;
            o.RetryBudget.RetryRatio = 0.2;
            o.RetryBudget.Window = TimeSpan.FromMinutes(1);
        });

        const int calls = 60;
        var stopped = 0;
        for (var i = 0; i < calls; i++)
        {
            var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));
            Assert.Equal(LlmFailureKind.ServerError, exception.Kind);
            if (exception.Message.Contains("retry budget", StringComparison.Ordinal))
            {
                stopped++;
            }
        }

        // Without the budget: 5 attempts per call (300). With it: 60 calls and at most max(5, 20 % of 60) = 12 retries.
        Assert.InRange(server.Requests.Count, calls, calls + 12);
        Assert.True(stopped >= calls - 12, $"{stopped} calls said the retry budget stopped them");
    }

    [Fact]
    public void CallsRecordedFromManyThreadsAtOnce_NoneIsLost()
    {
        var time = new ManualTimeProvider();
        var budget = new RetryBudget(new LlmRetryBudgetOptions { MinRetries = 0, RetryRatio = 0.1, Window = TimeSpan.FromSeconds(10) }, time);

        // The lock-free path: every call lands in the current slot with an atomic increment.
        Parallel.For(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => budget.RecordCall());
        // The clock moves into the next slot: the first call there takes the lock and clears it, the rest go lock-free.
        time.Advance(TimeSpan.FromSeconds(1));
        Parallel.For(0, 10_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => budget.RecordCall());

        var retries = 0;
        while (budget.TryTakeRetry())
        {
            retries++;
        }

        Assert.Equal(3_000, retries); // 10 % of 30,000 calls: not one increment lost
    }

    [Fact]
    public async Task QuietClient_StillRetries_WithinTheFloor()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), 3);
        using var client = TestClients.Chat(server, o => o.BaseDelay = TimeSpan.FromMilliseconds(1));

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("Hello from FakeLlmServer.", completion.Content);
        Assert.Equal(4, server.Requests.Count);
    }

    [Fact]
    public async Task BudgetOff_EveryAttemptIsMade()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.ServerError(503);
        using var client = TestClients.Chat(server, o =>
        {
            o.BaseDelay = TimeSpan.FromMilliseconds(1);
            o.MaxDelay = TimeSpan.FromMilliseconds(2);
            o.MaxRetryAttempts = 2;
            o.RetryBudget.Enabled = false;
        });

        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));
        }

        Assert.Equal(30, server.Requests.Count);
    }

    [Fact]
    public void Budget_SlidesWithTheClock()
    {
        var time = new ManualTimeProvider();
        var budget = new RetryBudget(new LlmRetryBudgetOptions { MinRetries = 2, RetryRatio = 0.5, Window = TimeSpan.FromSeconds(10) }, time);
        for (var i = 0; i < 8; i++)
        {
            budget.RecordCall();
        }

        var granted = Enumerable.Range(0, 10).Count(_ => budget.TryTakeRetry());
        Assert.Equal(4, granted); // 50 % of 8 calls

        time.Advance(TimeSpan.FromSeconds(11)); // the window has moved past them all: only the floor is left
        Assert.True(budget.TryTakeRetry());
        Assert.True(budget.TryTakeRetry());
        Assert.False(budget.TryTakeRetry());
    }
}
