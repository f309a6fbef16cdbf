using System.Diagnostics;
using System.Text;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.AspNetCore.Http;

namespace LlmResilience.Tests.Streaming;

public sealed class StreamingTests
{
    private static async Task<(List<ChatCompletionChunk> Chunks, string Text)> ReadAllAsync(IAsyncEnumerable<ChatCompletionChunk> stream, CancellationToken cancellationToken = default)
    {
        var chunks = new List<ChatCompletionChunk>();
        var text = new StringBuilder();
        await foreach (var chunk in stream.WithCancellation(cancellationToken))
        {
            chunks.Add(chunk);
            text.Append(chunk.ContentDelta);
        }

        return (chunks, text.ToString());
    }

    [Fact]
    public async Task Stream_HappyPath_DeliversEveryChunkAndEndsOnDone()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["Hello", ", ", "world", "!"], includeUsage: true));
        using var client = TestClients.Chat(server);
        var request = TestClients.Hello();
        request.StreamOptions = new ChatStreamOptions { IncludeUsage = true };

        var (chunks, text) = await ReadAllAsync(client.StreamAsync(request));

        Assert.Equal("Hello, world!", text);
        Assert.Contains(chunks, c => c.FinishReason == ChatFinishReason.Stop);
        Assert.NotNull(chunks[^1].Usage);
        var recorded = Assert.Single(server.Requests);
        Assert.True(recorded.IsStreaming);
        Assert.Contains("\"include_usage\":true", recorded.Body);
    }

    [Fact]
    public async Task Stream_ResetBeforeHeaders_RetriedTransparently()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders());
        using var client = TestClients.Chat(server);

        var (_, text) = await ReadAllAsync(client.StreamAsync(TestClients.Hello()));

        Assert.False(string.IsNullOrEmpty(text));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Stream_StallBeforeFirstEvent_RetriedAfterFirstTokenTimeout()
    {
        var time = new ManualTimeProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamStallAfter(0));
        using var client = TestClients.Chat(server, o =>
        {
            o.FirstTokenTimeout = TimeSpan.FromMinutes(2);
            o.StreamIdleTimeout = TimeSpan.FromMinutes(1);
            o.AttemptTimeout = TimeSpan.FromMinutes(5);
            o.TotalTimeout = TimeSpan.FromMinutes(10);
        }, time: time);

        var read = ReadAllAsync(client.StreamAsync(TestClients.Hello()));
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMinutes(2));
        time.Advance(TimeSpan.FromMinutes(2));
        await time.WaitForTimerAsync(due => due == TimeSpan.FromMilliseconds(40));
        time.Advance(TimeSpan.FromMilliseconds(40));
        var (_, text) = await read.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("Hello from FakeLlmServer.", text);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Stream_KeepAliveCommentsOnly_DoNotResetTheFirstTokenClock()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.StreamKeepAliveOnly(TimeSpan.FromMilliseconds(20));
        using var client = TestClients.Chat(server, o =>
        {
            o.MaxRetryAttempts = 1;
            o.FirstTokenTimeout = TimeSpan.FromMilliseconds(300);
            o.StreamIdleTimeout = TimeSpan.FromMilliseconds(100);
            o.BaseDelay = TimeSpan.FromMilliseconds(5);
        });
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LlmException>(async () => await ReadAllAsync(client.StreamAsync(TestClients.Hello())));

        Assert.Equal(LlmFailureKind.Timeout, error.Kind);
        Assert.Contains("FirstTokenTimeout", error.Message);
        Assert.Equal(2, error.Attempts);
        await server.WaitForRequestAsync(2, TimeSpan.FromSeconds(5));
        Assert.Equal(2, server.Requests.Count);
        // Two attempts of 300 ms each, although a comment arrived every 20 ms.
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(590), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Stream_StallAfterEvents_FailsWithStreamInterruptedAndPartialText_NotRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamStallAfter(3));
        using var client = TestClients.Chat(server, o => o.StreamIdleTimeout = TimeSpan.FromMilliseconds(150));
        var received = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LlmException>(async () =>
        {
            await foreach (var chunk in client.StreamAsync(TestClients.Hello()))
            {
                received.Append(chunk.ContentDelta);
            }
        });

        Assert.Equal(LlmFailureKind.StreamInterrupted, error.Kind);
        Assert.Contains("StreamIdleTimeout", error.Message);
        Assert.Equal(received.ToString(), error.PartialContent);
        Assert.False(string.IsNullOrEmpty(error.PartialContent));
        Assert.Single(server.Requests);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(140), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Stream_KeepAlivesAfterData_DoNotKeepAStalledStreamAlive()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Custom("DataThenKeepAlives", async (context, cancellationToken) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n", cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
            while (!cancellationToken.IsCancellationRequested)
            {
                await context.Response.WriteAsync(": keep-alive\n\n", cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
                await Task.Delay(20, cancellationToken);
            }
        }));
        using var client = TestClients.Chat(server, o => o.StreamIdleTimeout = TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<LlmException>(async () => await ReadAllAsync(client.StreamAsync(TestClients.Hello())));

        Assert.Equal(LlmFailureKind.StreamInterrupted, error.Kind);
        Assert.Equal("Hi", error.PartialContent);
    }

    [Fact]
    public async Task Stream_ResetAfterEvents_FailsWithStreamInterruptedAndPartialText()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamResetAfter(2));
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(async () => await ReadAllAsync(client.StreamAsync(TestClients.Hello())));

        Assert.Equal(LlmFailureKind.StreamInterrupted, error.Kind);
        // The two events that arrived before the reset, as text (an empty string would mean they were lost).
        Assert.False(string.IsNullOrEmpty(error.PartialContent));
        Assert.StartsWith(error.PartialContent, "Hello from FakeLlmServer.", StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Stream_EndsWithoutDoneOrFinishReason_IsAnError()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamEndWithoutDone(2));
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(async () => await ReadAllAsync(client.StreamAsync(TestClients.Hello())));

        Assert.Equal(LlmFailureKind.StreamInterrupted, error.Kind);
        Assert.Contains("[DONE]", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Stream_MalformedEvent_IsInvalidResponse()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.MalformedSse());
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(async () => await ReadAllAsync(client.StreamAsync(TestClients.Hello())));

        Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
    }

    [Fact]
    public async Task Stream_CallerCancelsMidStream_SurfacesAsCancellation()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamStallAfter(2));
        using var client = TestClients.Chat(server);
        using var cts = new CancellationTokenSource();
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.StreamAsync(TestClients.Hello(), cts.Token))
            {
                cts.CancelAfter(50);
            }
        });

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Stream_InvalidRequest_ThrowsBeforeSending()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server);

        Assert.Throws<ArgumentException>(() => client.StreamAsync(new ChatCompletionRequest()));
        await Task.Delay(20);
        Assert.Empty(server.Requests);
    }
}
