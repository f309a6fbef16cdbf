using System.Text.Json;

namespace LlmResilience.Testing.Tests;

public sealed class OkBehaviorTests
{
    [Fact]
    public async Task Ok_GetModels_ReturnsTheModelListAndIsRecorded()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        using var response = await client.GetAsync(new Uri(server.BaseAddress, "models"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        Assert.Equal("list", json.RootElement.GetProperty("object").GetString());
        var model = Assert.Single(json.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal(("fake-model", "model"), (model.GetProperty("id").GetString(), model.GetProperty("object").GetString()));
        var recorded = Assert.Single(server.Requests);
        Assert.Equal(("GET", "/v1/models"), (recorded.Method, recorded.Path));
    }

    [Fact]
    public async Task EnqueuedFault_GetModels_TheFaultAnswers()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Unauthorized());
        using var client = RawClient.Create();

        using var first = await client.GetAsync(new Uri(server.BaseAddress, "models"));
        using var second = await client.GetAsync(new Uri(server.BaseAddress, "models"));

        Assert.Equal((401, 200), ((int)first.StatusCode, (int)second.StatusCode));
    }

    [Fact]
    public async Task Ok_NonStreamingRequest_ReturnsChatCompletionJsonAsTheApiSendsIt()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        Assert.True(int.Parse(RawClient.Header(response, "openai-processing-ms"), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.StartsWith("chatcmpl-", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.InRange(root.GetProperty("created").GetInt64(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal("fake-model", root.GetProperty("model").GetString());
        Assert.Equal("fp_fake", root.GetProperty("system_fingerprint").GetString());
        var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("Hello from FakeLlmServer.", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("refusal").ValueKind);
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = root.GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("prompt_tokens").GetInt32()); // "Say hello to the tests"
        Assert.Equal(3, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(8, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        var recorded = Assert.Single(server.Requests);
        Assert.Equal(("POST", "/v1/chat/completions", false, "Ok"), (recorded.Method, recorded.Path, recorded.IsStreaming, recorded.BehaviorName));
    }

    [Fact]
    public async Task Ok_Content_ReturnsThatContentWithItsWordCount()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Ok("Über naïve “quotes” <b>"));
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var root = json.RootElement;
        Assert.Equal("Über naïve “quotes” <b>", root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(4, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Ok_StreamingRequest_SendsRoleDeltasFinishAndDone()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = await reader.ReadAllAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(SseReader.Data(e)).RootElement).ToList();
        Assert.Equal(5, chunks.Count); // role, 3 word deltas, finish
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.Equal("""{"role":"assistant","content":"","refusal":null}""", Delta(chunks[0]).GetRawText());
        Assert.Equal(["Hello", " from", " FakeLlmServer."], chunks[1..4].Select(c => Delta(c).GetProperty("content").GetString()));
        Assert.Equal("{}", Delta(chunks[4]).GetRawText());
        Assert.Equal("stop", chunks[4].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(chunks[..4], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.True(Assert.Single(server.Requests).IsStreaming);
    }

    [Fact]
    public async Task Ok_StreamingRequestWithIncludeUsage_SendsUsageChunkBeforeDone()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamWithUsageBody);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = await reader.ReadAllAsync();

        var chunks = events[..^1].Select(e => JsonDocument.Parse(SseReader.Data(e)).RootElement).ToList();
        Assert.Equal(6, chunks.Count);
        Assert.All(chunks[..5], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        var last = chunks[5];
        Assert.Empty(last.GetProperty("choices").EnumerateArray());
        Assert.Equal(5, last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, last.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("data: [DONE]", events[^1]);
    }

    [Fact]
    public async Task Ok_KeepAlive_SecondRequestReusesTheConnection()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var client = RawClient.Create();

        for (var i = 0; i < 3; i++)
        {
            using var response = await RawClient.PostAsync(client, server, i == 1 ? RawClient.StreamBody : RawClient.ChatBody);
            await response.Content.ReadAsStringAsync();
        }

        Assert.Single(server.Requests.Select(r => r.ConnectionId).Distinct());
        Assert.Equal(1, server.ConnectionCount);
    }

    private static JsonElement Delta(JsonElement chunk) => chunk.GetProperty("choices")[0].GetProperty("delta");
}
