using System.Diagnostics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Chat;

/// <summary>Per-call control over real sockets: headers, retries and timeouts for one call, the request id on every chunk.</summary>
public sealed class RequestOptionsTests
{
    [Fact]
    public async Task Headers_AreSentWithEveryAttemptOfThatCallOnly()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503));
        using var client = TestClients.Chat(server);
        var options = new LlmRequestOptions();
        options.Headers["OpenAI-Organization"] = "org-123";
        options.Headers["X-Tenant"] = "tenant-a";

        await client.CompleteAsync(TestClients.Hello(), options, CancellationToken.None);
        await client.CompleteAsync(TestClients.Hello());

        var requests = server.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests.Take(2), r => Assert.Equal("org-123", r.Headers["OpenAI-Organization"]));
        Assert.All(requests.Take(2), r => Assert.Equal("tenant-a", r.Headers["X-Tenant"]));
        Assert.False(requests[2].Headers.ContainsKey("X-Tenant"));
    }

    [Fact]
    public async Task NoRetries_ForAnInteractiveCall_TheFirstFailureIsTheAnswer()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.ServerError(503);
        using var client = TestClients.Chat(server);

        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello(), new LlmRequestOptions { MaxRetryAttempts = 0 }, CancellationToken.None));

        Assert.Equal(1, exception.Attempts);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task ShorterAttemptTimeoutAndTotalTimeout_ApplyToThatCall()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();
        using var client = TestClients.Chat(server);

        var stopwatch = Stopwatch.StartNew();
        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello(),
            new LlmRequestOptions { AttemptTimeout = TimeSpan.FromMilliseconds(100), TotalTimeout = TimeSpan.FromMilliseconds(700) }, CancellationToken.None));

        Assert.Equal(LlmFailureKind.Timeout, exception.Kind);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"took {stopwatch.Elapsed}");
        Assert.True(server.Requests.Count >= 2, $"{server.Requests.Count} attempts");
    }

    [Fact]
    public async Task OwnAttemptTimeout_OneAttempt_TimesOutAtItAndSaysItWasTheCalls()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();
        using var client = TestClients.Chat(server, o => o.AttemptTimeout = TimeSpan.FromSeconds(10));

        var stopwatch = Stopwatch.StartNew();
        var exception = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello(),
            new LlmRequestOptions { AttemptTimeout = TimeSpan.FromMilliseconds(150), MaxRetryAttempts = 0 }, CancellationToken.None));

        Assert.Equal(LlmFailureKind.Timeout, exception.Kind);
        Assert.Equal(1, exception.Attempts);
        Assert.True(exception.Message.Contains("the call's AttemptTimeout (00:00:00.1500000)", StringComparison.Ordinal), exception.Message);
        Assert.True(exception.Message.Contains("Raise LlmRequestOptions.AttemptTimeout", StringComparison.Ordinal), exception.Message);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(140), TimeSpan.FromSeconds(3));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Stream_EveryChunkCarriesTheRequestIdAndTheEndpoint()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server);

        var chunks = new List<LlmResilience.Chat.ChatCompletionChunk>();
        await foreach (var chunk in client.StreamAsync(TestClients.Hello(), new LlmRequestOptions(), CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        Assert.NotEmpty(chunks);
        Assert.All(chunks, c => Assert.StartsWith("req_", c.RequestId, StringComparison.Ordinal));
        Assert.All(chunks, c => Assert.Equal(server.BaseAddress.AbsoluteUri, c.Endpoint));
    }

    [Fact]
    public async Task BadOptions_ThrowBeforeAnythingIsSent()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server);
        var withKey = new LlmRequestOptions();
        withKey.Headers["Authorization"] = "Bearer sk-other";

        Assert.Throws<ArgumentException>(() => client.StreamAsync(TestClients.Hello(), withKey, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.CompleteAsync(TestClients.Hello(), new LlmRequestOptions { MaxRetryAttempts = 99 }, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.CompleteAsync(TestClients.Hello(), new LlmRequestOptions { TotalTimeout = TimeSpan.Zero }, CancellationToken.None));
        Assert.Empty(server.Requests);
    }
}
