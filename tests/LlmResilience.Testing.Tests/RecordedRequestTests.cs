using System.Diagnostics;
using System.Text;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Testing.Tests;

public sealed class RecordedRequestTests
{
    [Fact]
    public async Task Recorded_ChatRequest_KeepsMethodPathHeadersAndBody()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();
        using var request = RawClient.Chat(server);
        request.Headers.Add("X-Trace", ["a", "b"]);
        request.Headers.Add("OpenAI-Organization", "org-test");

        using (await client.SendAsync(request))
        {
        }

        var recorded = Assert.Single(server.Requests);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("/v1/chat/completions", recorded.Path);
        Assert.Equal(RawClient.ChatBody, recorded.Body);
        Assert.False(recorded.IsStreaming);
        Assert.Equal("a, b", recorded.Headers["x-trace"]);
        Assert.Equal("org-test", recorded.Headers["openai-organization"]);
        Assert.Equal("org-test", recorded.Headers["OPENAI-ORGANIZATION"]);
        Assert.Equal("application/json; charset=utf-8", recorded.Headers["Content-Type"]);
        Assert.Equal($"127.0.0.1:{server.Port}", recorded.Headers["host"]);
    }

    [Theory]
    [InlineData("""{"stream":true}""", true)]
    [InlineData("""{"stream":false}""", false)]
    [InlineData("""{"stream":"true"}""", false)]
    [InlineData("not json", false)]
    [InlineData("", false)]
    public async Task IsStreaming_RequestBody_ReflectsStreamTrue(string body, bool expected)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Status(204);
        using var client = RawClient.Create();

        using (await client.PostAsync(new Uri(server.BaseAddress, "chat/completions"), new StringContent(body, Encoding.UTF8, "application/json")))
        {
        }

        var recorded = Assert.Single(server.Requests);
        Assert.Equal(expected, recorded.IsStreaming);
        Assert.Equal(body, recorded.Body);
    }

    [Fact]
    public async Task Recorded_GetRequest_HasEmptyBodyAndItsPath()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        using (await client.GetAsync(new Uri(server.BaseAddress, "models")))
        {
        }

        var recorded = Assert.Single(server.Requests);
        Assert.Equal(("GET", "/v1/models", string.Empty), (recorded.Method, recorded.Path, recorded.Body));
    }

    [Fact]
    public async Task ElapsedSince_RequestsApart_MeasuresTheGapFromTimestamps()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();
        var before = Stopwatch.GetTimestamp();
        using (await RawClient.PostAsync(client, server))
        {
        }

        await Task.Delay(40);
        using (await RawClient.PostAsync(client, server))
        {
        }

        var after = Stopwatch.GetTimestamp();

        var requests = server.Requests;
        Assert.InRange(requests[0].Timestamp, before, after);
        Assert.True(requests[1].ElapsedSince(requests[0]) >= TimeSpan.FromMilliseconds(35), $"Gap {requests[1].ElapsedSince(requests[0]).TotalMilliseconds} ms.");
        Assert.True(requests[0].ElapsedSince(requests[1]) < TimeSpan.Zero);
    }

    [Fact]
    public async Task ReceivedAt_CustomTimeProvider_ComesFromIt()
    {
        var now = new DateTimeOffset(2024, 5, 13, 12, 0, 0, TimeSpan.Zero);
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = new FixedTimeProvider(now) });
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal(now, Assert.Single(server.Requests).ReceivedAt);
        Assert.Contains($"\"created\":{now.ToUnixTimeSeconds()},", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToString_Recorded_DescribesTheRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError());
        using var client = RawClient.Create();
        using (await RawClient.PostAsync(client, server, RawClient.StreamBody))
        {
        }

        var recorded = Assert.Single(server.Requests);
        Assert.Equal($"#0 POST /v1/chat/completions (stream) -> ServerError on connection {recorded.ConnectionId}", recorded.ToString());
    }

    [Theory]
    [InlineData("Authorization", "Bearer " + RawClient.ApiKey, "Bearer [redacted]")]
    [InlineData("Authorization", "bearer " + RawClient.ApiKey, "bearer [redacted]")]
    [InlineData("api-key", RawClient.ApiKey, "[redacted]")]
    public async Task Headers_RequestWithApiKey_ShowTheKeyRedacted(string header, string value, string expected)
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();
        using var request = RawClient.Chat(server);
        request.Headers.Authorization = null;
        request.Headers.TryAddWithoutValidation(header, value);

        using (await client.SendAsync(request))
        {
        }

        var recorded = Assert.Single(server.Requests);
        Assert.Equal(expected, recorded.Headers[header]);
        Assert.DoesNotContain(recorded.Headers, h => h.Value.Contains(RawClient.ApiKey, StringComparison.Ordinal));
        Assert.True(recorded.SentApiKey(RawClient.ApiKey), "SentApiKey does not see the key the request carried.");
    }

    [Fact]
    public async Task SentApiKey_BearerKey_IsTrueForThatKeyOnly()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();
        using (await RawClient.PostAsync(client, server))
        {
        }

        var recorded = Assert.Single(server.Requests);
        Assert.True(recorded.SentApiKey(RawClient.ApiKey));
        Assert.False(recorded.SentApiKey("sk-test-key-123"));
        Assert.False(recorded.SentApiKey("SK-TEST-KEY-1234"));
        Assert.False(recorded.SentApiKey("Bearer " + RawClient.ApiKey));
        Assert.False(recorded.SentApiKey("[redacted]"));
        Assert.Throws<ArgumentNullException>(() => recorded.SentApiKey(null!));
        Assert.Throws<ArgumentException>(() => recorded.SentApiKey(string.Empty));
    }

    [Fact]
    public async Task SentApiKey_NoKeySent_IsFalse()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();
        using var request = RawClient.Chat(server);
        request.Headers.Authorization = null;

        using (await client.SendAsync(request))
        {
        }

        var recorded = Assert.Single(server.Requests);
        Assert.False(recorded.SentApiKey(RawClient.ApiKey));
        Assert.False(recorded.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task ToString_RequestWithApiKey_HasNoKey()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();
        using var request = RawClient.Chat(server);
        request.Headers.Add("api-key", RawClient.ApiKey);

        using (await client.SendAsync(request))
        {
        }

        var recorded = Assert.Single(server.Requests);
        Assert.DoesNotContain(RawClient.ApiKey, recorded.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("redacted", recorded.ToString(), StringComparison.Ordinal);
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task ClientAborted_ClientCancelsMidStream_IsSet()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["a", "b", "c", "d"], TimeSpan.FromMilliseconds(200)));
        using var client = RawClient.Create();
        using var cancel = new CancellationTokenSource();

        using (var response = await RawClient.PostAsync(client, server, RawClient.StreamBody, cancel.Token))
        {
            var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
            Assert.True(await stream.ReadAsync(new byte[16], cancel.Token) > 0); // the stream has begun
            await cancel.CancelAsync();
        }

        var recorded = Assert.Single(server.Requests);
        Assert.True(await Eventually.TrueAsync(() => recorded.ClientAborted), "The server did not see the client go away.");
    }

    [Fact]
    public async Task ClientAborted_AnswerReadInFull_IsNotSet()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["a", "b"], TimeSpan.FromMilliseconds(1)));
        using var client = RawClient.Create();

        using (var response = await RawClient.PostAsync(client, server, RawClient.StreamBody))
        {
            await response.Content.ReadAsStringAsync();
        }

        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        Assert.False(await Eventually.TrueAsync(() => server.Requests[0].ClientAborted, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task ClientAborted_ServerResetTheConnection_IsNotSet()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.StreamResetAfter(2));
        using var client = RawClient.Create();

        await Assert.ThrowsAsync<HttpRequestException>(() => RawClient.PostAsync(client, server));
        using (var response = await RawClient.PostAsync(client, server, RawClient.StreamBody))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => response.Content.ReadAsStringAsync()); // the reset, mid-stream
        }

        Assert.False(await Eventually.TrueAsync(() => server.Requests.Any(r => r.ClientAborted), TimeSpan.FromMilliseconds(100)));
    }
}
