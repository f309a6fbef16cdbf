using LlmResilience.Chat;
using System.Net;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmResilience.Tests.Calls;

/// <summary>Regressions of the "one call, one context" reshaping: each reporter reads the call's own record.</summary>
public sealed class CallContextTests
{
    [Fact]
    public async Task CompleteAsync_503Then429WithLongRetryAfterOnTheLastAttempt_ReportsAttemptsExhaustedNotAFailFast()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "600" }));
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 1);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.RateLimited, error.Kind);
        Assert.Equal(2, error.Attempts);
        Assert.Equal(TimeSpan.FromSeconds(600), error.RetryAfter);
        Assert.DoesNotContain("instead of sleeping", error.Message);
        Assert.Contains("each of 2 attempts", error.Message);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task CompleteAsync_MalformedJsonAfterARetry_CountsBothAttempts()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), FakeBehavior.MalformedJson());
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
        Assert.Equal(2, error.Attempts);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task StreamAsync_BreaksAfterARetry_CountsBothAttempts()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.StreamResetAfter(2));
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(async () =>
        {
            await foreach (var _ in client.StreamAsync(TestClients.Hello()))
            {
            }
        });

        Assert.Equal(LlmFailureKind.StreamInterrupted, error.Kind);
        Assert.Equal(2, error.Attempts);
        Assert.False(string.IsNullOrEmpty(error.PartialContent));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task StreamAsync_EnumeratedTwice_SendsTwiceAndNeverThrowsInvalidOperation()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server);
        var stream = client.StreamAsync(TestClients.Hello());

        var first = new List<string>();
        await foreach (var chunk in stream)
        {
            first.Add(chunk.ContentDelta ?? string.Empty);
        }

        var second = new List<string>();
        await foreach (var chunk in stream)
        {
            second.Add(chunk.ContentDelta ?? string.Empty);
        }

        Assert.NotEmpty(first);
        Assert.Equal(first, second);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task StreamAsync_NeverEnumerated_SendsNothing()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server);

        var stream = client.StreamAsync(TestClients.Hello());
        // A request that reaches the server after this would be a stream that sent without being enumerated.
        await using var enumerator = stream.GetAsyncEnumerator();
        await Task.Delay(50);

        Assert.Empty(server.Requests);
        Assert.Throws<ArgumentException>(() => client.StreamAsync(new ChatCompletionRequest([])));
    }

    [Fact]
    public async Task Retry_HeaderAddedByAnInnerHandler_IsSentOncePerAttempt()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503));
        var options = TestClients.FastResilience();
        using var handler = new LlmResilienceHandler(options, TimeProvider.System, NullLogger.Instance)
        {
            InnerHandler = new AddHeaderHandler("x-added-below", "k") { InnerHandler = new RecyclingConnectionHandler(options, NullLogger.Instance) },
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseAddress, "chat/completions"))
        {
            Content = new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-caller", "c");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("k", r.Headers["x-added-below"]));
        Assert.All(server.Requests, r => Assert.Equal("c", r.Headers["x-caller"]));
        // The caller's own message was never sent, so nothing was added to it.
        Assert.False(request.Headers.Contains("x-added-below"));
        Assert.Same(request, response.RequestMessage);
    }

    [Fact]
    public async Task Retry_TheCallersRequestOptions_ReachTheHandlersBelowOnEveryAttempt()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503));
        var options = TestClients.FastResilience();
        var seen = new List<string?>();
        using var handler = new LlmResilienceHandler(options, TimeProvider.System, NullLogger.Instance)
        {
            InnerHandler = new ReadOptionHandler(Correlation, seen) { InnerHandler = new RecyclingConnectionHandler(options, NullLogger.Instance) },
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseAddress, "chat/completions"))
        {
            Content = new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Options.Set(Correlation, "corr-42");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(["corr-42", "corr-42"], seen);
    }

    [Fact]
    public async Task TypedClient_TheCallRidesOnItsRequest_AndNoOptionIsAddedForIt()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503));
        var options = TestClients.FastResilience();
        var counts = new List<int>();
        using var handler = new LlmResilienceHandler(options, TimeProvider.System, NullLogger.Instance)
        {
            InnerHandler = new CountOptionsHandler(counts) { InnerHandler = new RecyclingConnectionHandler(options, NullLogger.Instance) },
        };
        using var client = TestClients.WithoutPipeline(new HttpClient(handler), new LlmClientOptions
        {
            BaseAddress = server.BaseAddress,
            ApiKey = TestClients.ApiKey,
            Model = "test-model",
            Resilience = options,
        });

        var completion = await client.CompleteAsync(TestClients.Hello());

        // The pipeline found the typed client's call without an options entry to carry it: its attempts are the client's
        // (a call of the pipeline's own would leave the client's record empty, and Endpoint null).
        Assert.Equal("Hello from FakeLlmServer.", completion.Content);
        Assert.Equal(server.BaseAddress.AbsoluteUri, completion.Endpoint);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal([0, 0], counts);
    }

    private static readonly HttpRequestOptionsKey<string> Correlation = new("test.correlation");

    private sealed class ReadOptionHandler(HttpRequestOptionsKey<string> key, List<string?> seen) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add(request.Options.TryGetValue(key, out var value) ? value : null);
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class CountOptionsHandler(List<int> counts) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counts.Add(((IDictionary<string, object?>)request.Options).Count);
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task CompleteAsync_NotRetryableFirstAttempt_LogsGivingUpWithClientAndEndpoint()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Unauthorized());
        using var client = TestClients.Chat(server, loggerFactory: logs);

        await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        var entry = Assert.Single(logs.Entries, e => e.EventId.Id == 2);
        Assert.Equal("default", entry.State.Single(kv => kv.Key == "Client").Value);
        Assert.Equal(server.BaseAddress + "chat/completions", entry.State.Single(kv => kv.Key == "Endpoint").Value);
        Assert.Equal("1 attempt", entry.State.Single(kv => kv.Key == "Attempts").Value);
        Assert.Equal(LlmFailureKind.Unauthorized, entry.State.Single(kv => kv.Key == "Kind").Value);
        Assert.DoesNotContain("attempt(s)", entry.Message);
        Assert.DoesNotContain("401 401", entry.Message);
    }

    [Fact]
    public async Task StreamAsync_BrokenAfterChunks_LogsStreamInterruptedOnceWithTheChunkCount()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamResetAfter(2));
        using var client = TestClients.Chat(server, loggerFactory: logs);

        await Assert.ThrowsAsync<LlmException>(async () =>
        {
            await foreach (var _ in client.StreamAsync(TestClients.Hello()))
            {
            }
        });

        var entry = Assert.Single(logs.Entries, e => e.EventId.Id == 4);
        Assert.Equal(2, entry.State.Single(kv => kv.Key == "Chunks").Value);
        Assert.Equal("default", entry.State.Single(kv => kv.Key == "Client").Value);
        Assert.StartsWith("req_", (string?)entry.State.Single(kv => kv.Key == "RequestId").Value, StringComparison.Ordinal);
        // One line per failed call: the stream's own, not a second "gave up".
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 2);
    }

    [Fact]
    public async Task CompleteAsync_MalformedJson_LogsGivingUp()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.MalformedJson());
        using var client = TestClients.Chat(server, loggerFactory: logs);

        await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        var entry = Assert.Single(logs.Entries, e => e.EventId.Id == 2);
        Assert.Equal(LlmFailureKind.InvalidResponse, entry.State.Single(kv => kv.Key == "Kind").Value);
    }

    [Fact]
    public async Task CompleteAsync_409OnEveryAttempt_EndsAsBadRequestAfterRetries()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(409, """{"error":{"message":"conflict","type":"invalid_request_error","code":null}}"""), 3);
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 2);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.BadRequest, error.Kind);
        Assert.Equal(HttpStatusCode.Conflict, error.StatusCode);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task CompleteAsync_BodyStallsHalfway_AttemptTimesOutAndIsRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Custom("HalfBodyThenStall", async (context, cancellationToken) =>
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = 400;
            await context.Response.WriteAsync("""{"id":"chatcmpl-1","object":"chat.completion",""", cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }));
        using var client = TestClients.Chat(server, o => o.AttemptTimeout = TimeSpan.FromMilliseconds(300));

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("Hello from FakeLlmServer.", completion.Content);
        Assert.Equal(2, server.Requests.Count);
        Assert.True(server.Requests[1].ElapsedSince(server.Requests[0]) >= TimeSpan.FromMilliseconds(300));
    }

    private sealed class AddHeaderHandler(string name, string value) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation(name, value);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
