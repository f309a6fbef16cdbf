using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Tests.Diagnostics;

public sealed class LogTests
{
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
