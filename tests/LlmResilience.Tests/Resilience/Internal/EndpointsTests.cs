using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Tests.Resilience.Internal;

public sealed class EndpointsTests
{
    [Theory]
    [InlineData("https://user:secret@api.example.com/v1/chat/completions", "https://api.example.com/v1/chat/completions")]
    [InlineData("https://user:secret@api.example.com:8443/v1/chat/completions?api-key=secret#x", "https://api.example.com:8443/v1/chat/completions")]
    [InlineData("http://secret@127.0.0.1:5000/v1/", "http://127.0.0.1:5000/v1/")]
    [InlineData("https://api.example.com/v1/chat/completions?api-version=2024", "https://api.example.com/v1/chat/completions")]
    [InlineData("user:secret@api.example.com/v1/", "***@api.example.com/v1/")]
    public void Describe_AbsoluteAddress_DropsUserInfoAndQuery(string address, string expected)
    {
        Assert.Equal(expected, Endpoints.Describe(new Uri(address)));
    }

    [Fact]
    public void Describe_RelativeAddress_DropsUserInfoAndQuery()
    {
        Assert.Equal("***@host/v1/", Endpoints.Describe(new Uri("//user:secret@host/v1/?key=secret", UriKind.Relative)));
        Assert.Equal("/v1/chat/completions", Endpoints.Describe(new Uri("/v1/chat/completions?key=secret", UriKind.Relative)));
    }

    [Fact]
    public async Task CompleteAsync_BaseAddressWithUserInfo_LogsAndErrorsNeverShowIt()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), 2);
        var address = new UriBuilder(server.BaseAddress) { UserName = "alice", Password = "hunter2-secret" }.Uri;
        using var client = TestClients.Chat(address, o =>
        {
            o.MaxRetryAttempts = 1;
            o.BaseDelay = TimeSpan.FromMilliseconds(5);
        }, loggerFactory: logs);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(2, server.Requests.Count);
        var endpoint = $"{server.BaseAddress}chat/completions";
        Assert.Contains(logs.Entries, e => e.EventId.Id == 1 && e.Message.Contains(endpoint, StringComparison.Ordinal));
        Assert.Contains(endpoint, error.Message, StringComparison.Ordinal);
        foreach (var text in new[] { logs.AllText(), error.Message, error.ToString() })
        {
            Assert.DoesNotContain("hunter2-secret", text, StringComparison.Ordinal);
            Assert.DoesNotContain("alice", text, StringComparison.Ordinal);
        }
    }
}
