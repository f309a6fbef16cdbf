using System.Diagnostics;
using System.Net.Sockets;

namespace LlmResilience.Testing.Tests;

public sealed class FakeLlmServerTests
{
    [Fact]
    public async Task StartAsync_Defaults_ListensOnLoopbackWithV1BaseAddress()
    {
        await using var server = await FakeLlmServer.StartAsync();

        Assert.Equal("127.0.0.1", server.BaseAddress.Host);
        Assert.Equal(server.Port, server.BaseAddress.Port);
        Assert.NotEqual(0, server.Port);
        Assert.Equal($"http://127.0.0.1:{server.Port}/v1/", server.BaseAddress.ToString());
        Assert.Equal(0, server.PendingBehaviors);
        Assert.Empty(server.Requests);
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task StartAsync_TwoServers_GetDifferentPorts()
    {
        await using var first = await FakeLlmServer.StartAsync();
        await using var second = await FakeLlmServer.StartAsync();

        Assert.NotEqual(first.Port, second.Port);
    }

    [Fact]
    public async Task StartAsync_RequireApiKeyWithoutKey_Throws()
    {
        var exception = await Assert.ThrowsAsync<ArgumentException>(() => FakeLlmServer.StartAsync(new FakeLlmServerOptions { RequireApiKey = true }));

        Assert.Equal("ApiKey", exception.ParamName);
    }

    [Fact]
    public async Task StartAndDispose_Warm_TakesWellUnderOneSecond()
    {
        await (await FakeLlmServer.StartAsync()).DisposeAsync();
        var stopwatch = Stopwatch.StartNew();

        var server = await FakeLlmServer.StartAsync();
        var started = stopwatch.Elapsed;
        await server.DisposeAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromMilliseconds(500), $"Start {started.TotalMilliseconds:0} ms, start and dispose {stopwatch.ElapsedMilliseconds} ms.");
    }

    [Fact]
    public async Task DefaultBehavior_EmptyScript_AnswersOk()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Ok", server.DefaultBehavior.Name);
        Assert.Equal("Ok", Assert.Single(server.Requests).BehaviorName);
    }

    [Fact]
    public async Task Ok_GetModels_AnswersTheModelListAndScriptedFaultsStillApply()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { Model = "listed-model" });
        server.Enqueue(FakeBehavior.Ok(), FakeBehavior.Unauthorized());
        using var client = new HttpClient();

        using var listed = await client.GetAsync(new Uri(server.BaseAddress, "models"));
        using var refused = await client.GetAsync(new Uri(server.BaseAddress, "models"));

        Assert.Equal(200, (int)listed.StatusCode);
        using var list = System.Text.Json.JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
        Assert.Equal("list", list.RootElement.GetProperty("object").GetString());
        Assert.Equal("listed-model", list.RootElement.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(401, (int)refused.StatusCode);
        Assert.Equal(["GET", "GET"], server.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task DefaultBehavior_Set_AnswersEveryUnscriptedRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.ServerError(503);
        server.Enqueue(FakeBehavior.Ok());
        using var client = RawClient.Create();

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await RawClient.PostAsync(client, server);
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([200, 503, 503], statuses);
    }

    [Fact]
    public async Task DefaultBehavior_SetNull_Throws()
    {
        await using var server = await FakeLlmServer.StartAsync();

        Assert.Throws<ArgumentNullException>(() => server.DefaultBehavior = null!);
    }

    [Fact]
    public async Task Enqueue_SeveralBehaviors_AreConsumedFirstInFirstOut()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var returned = server.Enqueue(FakeBehavior.Status(201), FakeBehavior.Status(202)).Enqueue(FakeBehavior.Status(203));
        using var client = RawClient.Create();

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await RawClient.PostAsync(client, server);
            statuses.Add((int)response.StatusCode);
        }

        Assert.Same(server, returned);
        Assert.Equal([201, 202, 203, 200], statuses);
        Assert.Equal([0, 1, 2, 3], server.Requests.Select(r => r.Index));
    }

    [Fact]
    public async Task Enqueue_Times_AnswersThatManyRequestsThenMovesOn()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(), 2).Enqueue(FakeBehavior.Ok());
        Assert.Equal(3, server.PendingBehaviors);
        using var client = RawClient.Create();

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await RawClient.PostAsync(client, server);
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([429, 429, 200], statuses);
        Assert.Equal(0, server.PendingBehaviors);
    }

    [Fact]
    public async Task Enqueue_InvalidArguments_Throw()
    {
        await using var server = await FakeLlmServer.StartAsync();

        Assert.Throws<ArgumentNullException>(() => server.Enqueue(FakeBehavior.Ok(), null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.Enqueue(FakeBehavior.Ok(), -1));
        Assert.Equal(0, server.PendingBehaviors);
    }

    [Fact]
    public async Task Requests_ConcurrentClients_RecordsEveryRequestInArrivalOrder()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RawClient.PostAsync(client, server)));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        var requests = server.Requests;
        Assert.Equal(Enumerable.Range(0, 8), requests.Select(r => r.Index));
        Assert.Equal(requests.Select(r => r.ConnectionId).Distinct().Count(), server.ConnectionCount);
    }

    [Fact]
    public async Task WaitForRequestAsync_RequestArrives_ReturnsThatRequest()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        var wait = server.WaitForRequestAsync(2, TimeSpan.FromSeconds(5));
        Assert.False(wait.IsCompleted);
        using (await RawClient.PostAsync(client, server))
        using (await RawClient.PostAsync(client, server))
        {
        }

        var second = await wait;

        Assert.Equal(1, second.Index);
        Assert.Same(second, server.Requests[1]);
        Assert.Same(server.Requests[0], await server.WaitForRequestAsync(1, TimeSpan.Zero));
    }

    [Fact]
    public async Task WaitForRequestAsync_TooFewRequests_ThrowsTimeoutException()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var stopwatch = Stopwatch.StartNew();

        var exception = await Assert.ThrowsAsync<TimeoutException>(() => server.WaitForRequestAsync(1, TimeSpan.FromMilliseconds(50)));

        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(45));
        Assert.Contains("request #1", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForRequestAsync_ServerDisposed_ThrowsObjectDisposedException()
    {
        var server = await FakeLlmServer.StartAsync();
        var wait = server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));

        await server.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => wait);
    }

    [Fact]
    public async Task Reset_AfterRequests_ClearsScriptAndRecordsAndRestartsIndexes()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Ok(), FakeBehavior.ServerError(), FakeBehavior.ServerError());
        using var client = RawClient.Create();
        using (await RawClient.PostAsync(client, server))
        {
        }

        server.Reset();
        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal(0, server.PendingBehaviors);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(0, Assert.Single(server.Requests).Index);
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task RequireApiKey_MissingOrWrongKey_Returns401WithoutConsumingTheScript()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { RequireApiKey = true, ApiKey = "sk-right-key-0000" });
        server.Enqueue(FakeBehavior.Status(202));
        using var client = RawClient.Create();

        using var wrongKey = await RawClient.PostAsync(client, server); // RawClient sends "sk-test-key-1234"
        using var noKeyRequest = RawClient.Chat(server);
        noKeyRequest.Headers.Authorization = null;
        using var noKey = await client.SendAsync(noKeyRequest);

        Assert.Equal(401, (int)wrongKey.StatusCode);
        Assert.Equal(401, (int)noKey.StatusCode);
        Assert.Contains("\"code\":\"invalid_api_key\"", await noKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, server.PendingBehaviors);
        Assert.Equal(["Unauthorized", "Unauthorized"], server.Requests.Select(r => r.BehaviorName));
    }

    [Fact]
    public async Task RequireApiKey_RightKey_ServesTheScript()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { RequireApiKey = true, ApiKey = "sk-test-key-1234" });
        server.Enqueue(FakeBehavior.Status(202));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal(202, (int)response.StatusCode);
        Assert.True(Assert.Single(server.Requests).SentApiKey("sk-test-key-1234"), "The recorded request lost its API key.");
    }

    [Fact]
    public async Task Responses_EveryOpenAiAnswer_CarriesAUniqueRequestId()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Ok(), FakeBehavior.RateLimited(), FakeBehavior.ServerError(), FakeBehavior.Ok());
        using var client = RawClient.Create();

        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await RawClient.PostAsync(client, server, i == 3 ? RawClient.StreamBody : RawClient.ChatBody);
            ids.Add(RawClient.Header(response, "x-request-id"));
            Assert.True(RawClient.HasHeader(response, "openai-processing-ms"));
        }

        Assert.All(ids, id => Assert.Matches("^req_[0-9a-f]{32}$", id));
        Assert.Equal(4, ids.Distinct().Count());
    }

    [Fact]
    public async Task DisposeAsync_WithHangingRequest_IsFastAndTheClientSeesTheConnectionEnd()
    {
        var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Hang());
        using var client = RawClient.Create();
        var send = RawClient.PostAsync(client, server);
        await server.WaitForRequestAsync(1, TimeSpan.FromSeconds(5));
        var stopwatch = Stopwatch.StartNew();

        await server.DisposeAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"Dispose took {stopwatch.ElapsedMilliseconds} ms.");
        await Assert.ThrowsAsync<HttpRequestException>(() => send);
        Assert.Equal(0, server.InFlightRequests);
    }

    [Fact]
    public async Task DisposeAsync_WithStalledStreamAndKeepAliveStream_IsFastAndResetsThem()
    {
        var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.StreamStallAfter(1), FakeBehavior.StreamKeepAliveOnly(TimeSpan.FromMilliseconds(10)));
        using var client = RawClient.Create();
        using var stalled = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var keepAlive = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await stalled.Content.ReadAsStreamAsync());
        Assert.NotNull(await reader.ReadEventAsync());
        var stopwatch = Stopwatch.StartNew();

        await server.DisposeAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"Dispose took {stopwatch.ElapsedMilliseconds} ms.");
        Assert.Equal(0, server.InFlightRequests);
        var exception = await Assert.ThrowsAnyAsync<IOException>(() => reader.ReadEventAsync());
        Assert.Equal(SocketError.ConnectionReset, RawClient.FindSocketException(exception)?.SocketErrorCode);
    }

    [Fact]
    public async Task DisposeAsync_Twice_IsHarmless()
    {
        var server = await FakeLlmServer.StartAsync();

        await server.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task GetRefusedAddress_Connect_IsRefused()
    {
        var address = FakeLlmServer.GetRefusedAddress();
        using var client = RawClient.Create();

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(new Uri(address, "chat/completions"), new StringContent(RawClient.ChatBody)));

        Assert.Equal("127.0.0.1", address.Host);
        Assert.EndsWith("/v1/", address.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(HttpRequestError.ConnectionError, exception.HttpRequestError);
        Assert.Equal(SocketError.ConnectionRefused, RawClient.FindSocketException(exception)?.SocketErrorCode);
    }

    [Fact]
    public async Task ConnectionCount_TwoClients_CountsEachConnection()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var first = RawClient.Create();
        using var second = RawClient.Create();

        for (var i = 0; i < 2; i++)
        {
            using (await RawClient.PostAsync(first, server))
            {
            }

            using (await RawClient.PostAsync(second, server))
            {
            }
        }

        Assert.Equal(2, server.ConnectionCount);
        Assert.Equal(2, server.Requests.Select(r => r.ConnectionId).Distinct().Count());
    }
}
