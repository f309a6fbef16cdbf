using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Tests.Diagnostics;

public sealed class LogTests
{
    [Fact]
    public async Task Retrying_WithAndWithoutRequestId_PrintsTheIdOnlyWhenThereIsOne()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await FakeLlmServer.StartAsync();
        // A 503 carries the server's x-request-id; a reset before the headers has none.
        server.Enqueue(FakeBehavior.ServerError(503), FakeBehavior.ResetBeforeHeaders());
        using var client = TestClients.Chat(server, loggerFactory: logs);

        await client.CompleteAsync(TestClients.Hello());

        var retries = logs.Entries.Where(e => e.EventId.Id == 1).ToList();
        Assert.Equal(2, retries.Count);
        Assert.All(retries, e => Assert.Equal("Retrying", e.EventId.Name));
        Assert.Matches(@"Request id: req_\S+$", retries[0].Message);
        Assert.Contains(retries[0].State, kv => kv.Key == "RequestId");
        Assert.Matches(@"retrying in \d+ ms\.$", retries[1].Message);
        Assert.DoesNotContain("Request id", retries[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(retries[1].State, kv => kv.Key == "RequestId");
    }

    [Fact]
    public async Task GivingUp_NoRequestId_LeavesThePartOut()
    {
        var logs = new CapturingLoggerProvider();
        using var client = TestClients.Chat(FakeLlmServer.GetRefusedAddress(), o => o.MaxRetryAttempts = 0, loggerFactory: logs);

        await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        var gaveUp = Assert.Single(logs.Entries, e => e.EventId.Id == 2);
        Assert.Equal("GivingUp", gaveUp.EventId.Name);
        Assert.EndsWith(").", gaveUp.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Request id", gaveUp.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(null)", gaveUp.Message, StringComparison.Ordinal);
    }
}
