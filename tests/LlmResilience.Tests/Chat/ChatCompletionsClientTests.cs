using System.Text.Json;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.Extensions.Options;

namespace LlmResilience.Tests.Chat;

public sealed class ChatCompletionsClientTests
{
    [Fact]
    public async Task CompleteAsync_HappyPath_ParsesTheAnswerAndSendsTheWireFormat()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server, model: "fallback-model");
        var request = new ChatCompletionRequest([ChatMessage.System("Be brief."), ChatMessage.User("Hi")]) { MaxTokens = 20, Seed = 7 };

        var completion = await client.CompleteAsync(request);

        Assert.Equal("Hello from FakeLlmServer.", completion.Content);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.StartsWith("req_", completion.RequestId);
        Assert.NotNull(completion.Usage);
        Assert.True(completion.Usage!.TotalTokens > 0);
        var recorded = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", recorded.Path);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("Bearer [redacted]", recorded.Headers["Authorization"]);
        Assert.True(recorded.SentApiKey(TestClients.ApiKey), "The request did not carry the client's API key.");
        using var body = JsonDocument.Parse(recorded.Body);
        Assert.Equal("fallback-model", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(20, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal("system", body.RootElement.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.False(body.RootElement.TryGetProperty("stream", out var stream) && stream.GetBoolean());
        Assert.Null(request.Model);
    }

    [Fact]
    public async Task CompleteAsync_RequestModel_WinsOverOptions()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server, model: "fallback-model");

        await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("Hi")]) { Model = "explicit" });

        Assert.Contains("\"model\":\"explicit\"", server.Requests[0].Body);
    }

    [Fact]
    public async Task CompleteAsync_NoMessages_ThrowsArgumentExceptionAndSendsNothing()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.CompleteAsync(new ChatCompletionRequest()));

        Assert.Contains("no messages", error.Message);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task CompleteAsync_NoModelAnywhere_ThrowsArgumentExceptionAndSendsNothing()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server, model: null);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Contains("model", error.Message);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task CompleteAsync_NullRequest_ThrowsArgumentNullException()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = TestClients.Chat(server);

        await Assert.ThrowsAsync<ArgumentNullException>(() => client.CompleteAsync(null!));
    }

    [Fact]
    public async Task CompleteAsync_MalformedJson_IsInvalidResponse()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.MalformedJson());
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task CompleteAsync_BodyOverMaxResponseBytes_IsInvalidResponse()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var huge = new string('x', 300_000);
        server.Enqueue(FakeBehavior.Status(200, $$"""{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{{huge}}"},"finish_reason":"stop"}]}"""));
        using var client = TestClients.Chat(server, o => o.MaxResponseBytes = 100_000);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
        Assert.Contains("MaxResponseBytes", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task CompleteAsync_OverAnHttpClientWithoutThePipeline_ParsesTheStreamedBody()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var options = new LlmClientOptions { BaseAddress = server.BaseAddress, ApiKey = TestClients.ApiKey, Model = "m", AllowInsecureHttp = true };
        using var client = TestClients.WithoutPipeline(new HttpClient(), options);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("Hello from FakeLlmServer.", completion.Content);
        Assert.StartsWith("req_", completion.RequestId);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task CompleteAsync_OverAnHttpClientWithoutThePipeline_StillThrowsLlmException()
    {
        var refused = FakeLlmServer.GetRefusedAddress();
        var options = new LlmClientOptions { BaseAddress = refused, ApiKey = TestClients.ApiKey, Model = "m", AllowInsecureHttp = true };
        using var client = TestClients.WithoutPipeline(new HttpClient(), options);

        var complete = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));
        var stream = await Assert.ThrowsAsync<LlmException>(async () =>
        {
            await foreach (var chunk in client.StreamAsync(TestClients.Hello()))
            {
                Assert.Fail($"No chunk can arrive from a refused address: {chunk.ContentDelta}");
            }
        });

        Assert.Equal(LlmFailureKind.ConnectFailure, complete.Kind);
        Assert.Equal(LlmFailureKind.ConnectFailure, stream.Kind);
        Assert.Equal(1, complete.Attempts);
        Assert.DoesNotContain(TestClients.ApiKey, complete.Message);
    }

    [Fact]
    public async Task CompleteAsync_BodyBreaksMidway_IsRetriedAndTheAnswerArrives()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Custom("BodyCut", async (context, cancellationToken) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = 5000;
            await context.Response.Body.WriteAsync("{\"id\":\"chatcmpl-cut\",\"choices\":[{\"message\":{\"content\":\"half"u8.ToArray(), cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
            context.Abort();
        }));
        using var client = TestClients.Chat(server);

        var completion = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("Hello from FakeLlmServer.", completion.Content);
        Assert.Equal(["BodyCut", "Ok"], server.Requests.Select(r => r.BehaviorName.Split('(')[0]));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public async Task CompleteAsync_ChunkedBodyAtTheLimit_IsAcceptedAndOneByteMoreIsNot(int extraBytes, bool accepted)
    {
        const string Json = """{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"exactly"},"finish_reason":"stop"}]}""";
        var body = System.Text.Encoding.UTF8.GetBytes(Json + new string(' ', extraBytes));
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Custom("NoLength", async (context, cancellationToken) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(body.AsMemory(0, 10), cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
            await context.Response.Body.WriteAsync(body.AsMemory(10), cancellationToken);
        }));
        using var client = TestClients.Chat(server, o => o.MaxResponseBytes = Json.Length);

        if (accepted)
        {
            Assert.Equal("exactly", (await client.CompleteAsync(TestClients.Hello())).Content);
        }
        else
        {
            var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));
            Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
            Assert.Contains("MaxResponseBytes", error.Message);
        }

        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task CompleteAsync_ChunkedBodyOverMaxResponseBytes_IsInvalidResponse()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Custom("HugeChunked", async (context, cancellationToken) =>
        {
            context.Response.ContentType = "application/json";
            var block = new byte[16 * 1024];
            for (var i = 0; i < 20; i++)
            {
                await context.Response.Body.WriteAsync(block, cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
            }
        }));
        using var client = TestClients.Chat(server, o => o.MaxResponseBytes = 64 * 1024);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, error.Kind);
        Assert.Contains("MaxResponseBytes", error.Message);
    }

    [Fact]
    public async Task CompleteAsync_ContextLengthExceeded_IsClassifiedWithAdvice()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ContextLengthExceeded());
        using var client = TestClients.Chat(server);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ContextLengthExceeded, error.Kind);
        Assert.Equal("context_length_exceeded", error.ErrorCode);
        Assert.Contains("Shorten", error.Message);
        Assert.NotNull(error.RequestId);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task CompleteAsync_Unauthorized_MessageAndLogsNeverContainTheKey()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.ServerError(500));
        server.Enqueue(FakeBehavior.Status(401, $$$"""{"error":{"message":"Incorrect API key provided: {{{TestClients.ApiKey}}}.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"""));
        using var client = TestClients.Chat(server, loggerFactory: logs);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.Unauthorized, error.Kind);
        Assert.Equal("invalid_api_key", error.ErrorCode);
        Assert.Contains("LlmClientOptions.ApiKey", error.Message);
        Assert.Equal(3, error.Attempts);
        Assert.DoesNotContain(TestClients.ApiKey, error.Message);
        Assert.DoesNotContain(TestClients.ApiKey, error.ToString());
        Assert.Contains("[redacted]", error.Message);
        // Two retries and the final "gave up" line, none of them with the key.
        Assert.Equal(2, logs.Entries.Count(e => e.EventId.Id == 1));
        Assert.Single(logs.Entries, e => e.EventId.Id == 2);
        Assert.DoesNotContain(TestClients.ApiKey, logs.AllText());
    }

    [Fact]
    public async Task CompleteAsync_EachRetry_IsLoggedWithAttemptReasonDelayAndEndpoint()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(503), FakeBehavior.ResetBeforeHeaders());
        using var client = TestClients.Chat(server, loggerFactory: logs);

        await client.CompleteAsync(TestClients.Hello());

        var retries = logs.Entries.Where(e => e.EventId.Id == 1).ToList();
        Assert.Equal(2, retries.Count);
        Assert.Equal(1, retries[0].State.Single(kv => kv.Key == "Attempt").Value);
        Assert.Equal("HTTP 503 server_error", retries[0].State.Single(kv => kv.Key == "Reason").Value);
        Assert.StartsWith("req_", (string?)retries[0].State.Single(kv => kv.Key == "RequestId").Value);
        Assert.Equal(40L, retries[0].State.Single(kv => kv.Key == "DelayMs").Value);
        Assert.Equal(2, retries[1].State.Single(kv => kv.Key == "Attempt").Value);
        Assert.Equal(server.BaseAddress + "chat/completions", retries[1].State.Single(kv => kv.Key == "Endpoint").Value);

        // The 503 carried an x-request-id and its line ends with it; the reset had none, and its line leaves the part out.
        Assert.Matches(@"Request id: req_\S+$", retries[0].Message);
        Assert.Matches(@"retrying in \d+ ms\.$", retries[1].Message);
        Assert.DoesNotContain(retries[1].State, kv => kv.Key == "RequestId");
        Assert.All(retries, e => Assert.Equal("Retrying", e.EventId.Name));
    }

    [Fact]
    public void Create_InvalidOptions_ThrowsOptionsValidationExceptionSayingHowToFix()
    {
        var error = Assert.Throws<OptionsValidationException>(() => ChatCompletionsClient.Create(new LlmClientOptions
        {
            BaseAddress = new Uri("http://api.example.com/v1/"),
            ApiKey = "k",
            Resilience = new LlmResilienceOptions { AttemptTimeout = TimeSpan.FromHours(2) },
        }));

        Assert.Contains(error.Failures, f => f.Contains("https", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("AttemptTimeout", StringComparison.Ordinal));
    }
}
