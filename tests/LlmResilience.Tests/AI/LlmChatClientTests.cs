using System.Text.Json;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AIChatRole = Microsoft.Extensions.AI.ChatRole;

namespace LlmResilience.Tests.AI;

/// <summary>
/// <c>IChatCompletionsClient.AsIChatClient()</c> over FakeLlmServer: what M.E.AI's caller gets back, and what the server
/// received, for options, every content type, tool calls (non-streamed and streamed), errors and DI.
/// </summary>
public sealed class LlmChatClientTests
{
    private static readonly JsonElement WeatherSchema = JsonElement.Parse(
        """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""");

    [Fact]
    public async Task GetResponseAsync_EveryOption_IsWrittenOnTheWire()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server);
        var client = typed.AsIChatClient();
        var tool = AIFunctionFactory.CreateDeclaration("get_weather", "Gets the weather.", WeatherSchema);
        var options = new ChatOptions
        {
            ModelId = "gpt-4o-mini",
            Instructions = "Be brief.",
            Temperature = 0.5f,
            TopP = 0.9f,
            MaxOutputTokens = 100,
            StopSequences = ["END"],
            Seed = 42,
            FrequencyPenalty = 0.25f,
            PresencePenalty = -0.5f,
            ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonElement.Parse("""{"type":"object"}"""), "answer", "The answer."),
            Tools = [tool],
            ToolMode = ChatToolMode.RequireSpecific("get_weather"),
            AllowMultipleToolCalls = false,
            Reasoning = new ReasoningOptions { Effort = ReasoningEffort.Low },
            AdditionalProperties = new() { ["top_k"] = 5, ["user"] = "u-1" },
        };

        await client.GetResponseAsync("Hello", options);

        var body = JsonElement.Parse(Assert.Single(server.Requests).Body);
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        Assert.Equal("system", body.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal("Be brief.", body.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal("Hello", body.GetProperty("messages")[1].GetProperty("content").GetString());
        Assert.Equal(0.5, body.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(0.9, body.GetProperty("top_p").GetDouble(), 3);
        Assert.Equal(100, body.GetProperty("max_completion_tokens").GetInt32());
        Assert.Equal("END", body.GetProperty("stop")[0].GetString());
        Assert.Equal(42, body.GetProperty("seed").GetInt64());
        Assert.Equal(0.25, body.GetProperty("frequency_penalty").GetDouble(), 3);
        Assert.Equal(-0.5, body.GetProperty("presence_penalty").GetDouble(), 3);
        var format = body.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.Equal("answer", format.GetProperty("json_schema").GetProperty("name").GetString());
        Assert.Equal("The answer.", format.GetProperty("json_schema").GetProperty("description").GetString());
        var function = body.GetProperty("tools")[0].GetProperty("function");
        Assert.Equal("get_weather", function.GetProperty("name").GetString());
        Assert.Equal("Gets the weather.", function.GetProperty("description").GetString());
        Assert.Equal("string", function.GetProperty("parameters").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("get_weather", body.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
        Assert.False(body.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.Equal("low", body.GetProperty("reasoning_effort").GetString());
        Assert.Equal(5, body.GetProperty("top_k").GetInt32());
        Assert.Equal("u-1", body.GetProperty("user").GetString());
    }

    [Theory]
    [InlineData("none", "none")]
    [InlineData("auto", "auto")]
    [InlineData("required", "required")]
    public async Task GetResponseAsync_ToolMode_IsTheToolChoice(string mode, string expected)
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server);
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.CreateDeclaration("f", null, WeatherSchema)],
            ToolMode = mode switch { "none" => ChatToolMode.None, "auto" => ChatToolMode.Auto, _ => ChatToolMode.RequireAny },
        };

        await typed.AsIChatClient().GetResponseAsync("hi", options);

        Assert.Equal(expected, JsonElement.Parse(server.Requests[0].Body).GetProperty("tool_choice").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_ResponseFormatTextAndJson_AreTheirWireTypes()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server);
        var client = typed.AsIChatClient();

        await client.GetResponseAsync("a", new ChatOptions { ResponseFormat = ChatResponseFormat.Text });
        await client.GetResponseAsync("b", new ChatOptions { ResponseFormat = ChatResponseFormat.Json });

        Assert.Equal("text", JsonElement.Parse(server.Requests[0].Body).GetProperty("response_format").GetProperty("type").GetString());
        Assert.Equal("json_object", JsonElement.Parse(server.Requests[1].Body).GetProperty("response_format").GetProperty("type").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_EveryContentType_IsWrittenAsTheApiExpects()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server);
        byte[] png = [0x89, 0x50, 0x4E, 0x47];
        var image = new DataContent(png, "image/png") { AdditionalProperties = new() { ["detail"] = "low" } };
        List<AIChatMessage> messages =
        [
            new(AIChatRole.System, "You are terse."),
            new(AIChatRole.User, [new TextContent("What is in these?"), image, new UriContent("https://example.com/cat.jpg", "image/jpeg")]) { AuthorName = "ann" },
            new(AIChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]),
            new(AIChatRole.Tool, [new FunctionResultContent("call_1", new { temperature = 21 })]),
            new(AIChatRole.Assistant, "Sunny."),
        ];

        await typed.AsIChatClient().GetResponseAsync(messages);

        var wire = JsonElement.Parse(Assert.Single(server.Requests).Body).GetProperty("messages");
        Assert.Equal(5, wire.GetArrayLength());
        Assert.Equal("You are terse.", wire[0].GetProperty("content").GetString());
        var user = wire[1];
        Assert.Equal("ann", user.GetProperty("name").GetString());
        Assert.Equal("What is in these?", user.GetProperty("content")[0].GetProperty("text").GetString());
        var data = user.GetProperty("content")[1].GetProperty("image_url");
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(png), data.GetProperty("url").GetString());
        Assert.Equal("low", data.GetProperty("detail").GetString());
        Assert.Equal("https://example.com/cat.jpg", user.GetProperty("content")[2].GetProperty("image_url").GetProperty("url").GetString());
        var call = wire[2].GetProperty("tool_calls")[0];
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("Paris", JsonElement.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).GetProperty("city").GetString());
        Assert.Equal("tool", wire[3].GetProperty("role").GetString());
        Assert.Equal("call_1", wire[3].GetProperty("tool_call_id").GetString());
        Assert.Equal("""{"temperature":21}""", wire[3].GetProperty("content").GetString());
        Assert.Equal("Sunny.", wire[4].GetProperty("content").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_Completion_MapsTextFinishReasonUsageAndIdentity()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server);

        var response = await typed.AsIChatClient().GetResponseAsync("Say hello");

        Assert.Equal("Hello from FakeLlmServer.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.StartsWith("chatcmpl-", response.ResponseId, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(response.ModelId));
        Assert.NotNull(response.CreatedAt);
        Assert.Equal(AIChatRole.Assistant, Assert.Single(response.Messages).Role);
        var raw = Assert.IsType<LlmResilience.Chat.ChatCompletion>(response.RawRepresentation);
        Assert.Equal(raw.Id, response.ResponseId);
        Assert.Equal(raw.Usage!.PromptTokens, response.Usage!.InputTokenCount);
        Assert.Equal(raw.Usage.CompletionTokens, response.Usage.OutputTokenCount);
        Assert.Equal(raw.Usage.TotalTokens, response.Usage.TotalTokenCount);
        Assert.Equal(0, response.Usage.CachedInputTokenCount);
        Assert.Equal(0, response.Usage.ReasoningTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_CachedAndReasoningTokens_ReachUsage()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(200, """
            {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"o4-mini","choices":[{"index":0,
            "message":{"role":"assistant","content":"ok","reasoning_content":"thinking"},"finish_reason":"length"}],
            "usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":7},
            "completion_tokens_details":{"reasoning_tokens":15}}}
            """));
        using var typed = TestClients.Chat(server);

        var response = await typed.AsIChatClient().GetResponseAsync("hi");

        Assert.Equal(7, response.Usage!.CachedInputTokenCount);
        Assert.Equal(15, response.Usage.ReasoningTokenCount);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal("o4-mini", response.ModelId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), response.CreatedAt);
        Assert.Equal("thinking", Assert.IsType<TextReasoningContent>(response.Messages[0].Contents[0]).Text);
        Assert.Equal("ok", response.Text);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Text_ArrivesAsUpdatesWithUsage()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["Hel", "lo", "!"], includeUsage: true));
        using var typed = TestClients.Chat(server);

        var updates = await typed.AsIChatClient().GetStreamingResponseAsync("hi").ToListAsync();
        var response = updates.ToChatResponse();

        Assert.Equal("Hello!", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.NotNull(response.Usage);
        Assert.True(response.Usage!.TotalTokenCount > 0);
        Assert.All(updates, u => Assert.IsType<LlmResilience.Chat.ChatCompletionChunk>(u.RawRepresentation));
        Assert.Equal(AIChatRole.Assistant, updates[0].Role);
        Assert.True(Assert.Single(server.Requests).IsStreaming);
    }

    [Fact]
    public async Task FunctionInvocation_NonStreamed_RunsAFullToolRoundTrip()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ToolCalls(new FakeToolCall("get_weather", """{"city":"Paris"}""")), FakeBehavior.Ok("It is 21 degrees in Paris."));
        using var typed = TestClients.Chat(server);
        string? asked = null;
        var tool = AIFunctionFactory.Create((string city) => { asked = city; return new { temperature = 21 }; }, "get_weather");
        using var client = new ChatClientBuilder(typed.AsIChatClient()).UseFunctionInvocation().Build();

        var response = await client.GetResponseAsync("Weather in Paris?", new ChatOptions { Tools = [tool] });

        Assert.Equal("Paris", asked);
        Assert.Equal("It is 21 degrees in Paris.", response.Text);
        AssertSecondRequestAnsweredTheCall(server);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
    }

    [Fact]
    public async Task FunctionInvocation_Streamed_AccumulatesFragmentsIntoOneCallAndRunsIt()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(
            FakeBehavior.ToolCalls(new FakeToolCall("get_weather", """{"city":"Paris"}"""), new FakeToolCall("get_weather", """{"city":"Rome"}""")),
            FakeBehavior.Ok("Paris 21, Rome 25."));
        using var typed = TestClients.Chat(server);
        var cities = new List<string>();
        var tool = AIFunctionFactory.Create((string city) => { lock (cities) { cities.Add(city); } return city == "Paris" ? 21 : 25; }, "get_weather");
        using var client = new ChatClientBuilder(typed.AsIChatClient()).UseFunctionInvocation().Build();

        var updates = await client.GetStreamingResponseAsync("Weather?", new ChatOptions { Tools = [tool] }).ToListAsync();

        Assert.Equal(["Paris", "Rome"], cities.Order());
        Assert.Equal("Paris 21, Rome 25.", updates.ToChatResponse().Text);
        Assert.All(server.Requests, r => Assert.True(r.IsStreaming));
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal("Rome", calls[1].Arguments!["city"]?.ToString());
        var second = JsonElement.Parse(server.Requests[1].Body).GetProperty("messages");
        Assert.Equal(2, second[1].GetProperty("tool_calls").GetArrayLength());
        Assert.Equal("tool", second[2].GetProperty("role").GetString());
        Assert.Equal("tool", second[3].GetProperty("role").GetString());
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ToolCallFragments_AreNotHandedOutHalfWritten()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ToolCalls(new FakeToolCall("f", """{"a":1,"b":2}""", id: "call_x")));
        using var typed = TestClients.Chat(server);

        var updates = await typed.AsIChatClient().GetStreamingResponseAsync("go", new ChatOptions { Tools = [AIFunctionFactory.CreateDeclaration("f", null, WeatherSchema)] }).ToListAsync();

        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("call_x", call.CallId);
        Assert.Equal("2", call.Arguments!["b"]?.ToString());
        Assert.Null(call.Exception);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_Failure_IsOurLlmExceptionWithItsKind()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Unauthorized());
        using var typed = TestClients.Chat(server);
        using var client = new ChatClientBuilder(typed.AsIChatClient()).UseFunctionInvocation().Build();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.GetResponseAsync("hi"));

        Assert.Equal(LlmFailureKind.Unauthorized, failure.Kind);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RetriedFailureBeforeTheFirstChunk_IsInvisibleToTheCaller()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "10" }));
        using var typed = TestClients.Chat(server);

        var response = await typed.AsIChatClient().GetStreamingResponseAsync("hi").ToChatResponseAsync();

        Assert.Equal("Hello from FakeLlmServer.", response.Text);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task GetResponseAsync_NullMessage_IsAnArgumentExceptionAndNothingIsSent()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server);

        await Assert.ThrowsAsync<ArgumentException>(() => typed.AsIChatClient().GetResponseAsync([null!]));
        await Assert.ThrowsAsync<ArgumentNullException>(() => typed.AsIChatClient().GetResponseAsync((IEnumerable<AIChatMessage>)null!));
        await Assert.ThrowsAsync<ArgumentException>(() => typed.AsIChatClient().GetResponseAsync(
            [new AIChatMessage(AIChatRole.Tool, [new FunctionResultContent("", "x")])]));

        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task RawRepresentationFactory_OurRequestIsTheBaseAndItsValuesWin()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server);
        var options = new ChatOptions
        {
            Temperature = 0.9f,
            TopP = 0.5f,
            RawRepresentationFactory = _ => new LlmResilience.Chat.ChatCompletionRequest { Temperature = 0.1f, ServiceTier = "flex", MaxTokens = 7 },
            MaxOutputTokens = 100,
        };

        await typed.AsIChatClient().GetResponseAsync("hi", options);

        var body = JsonElement.Parse(server.Requests[0].Body);
        Assert.Equal(0.1, body.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(0.5, body.GetProperty("top_p").GetDouble(), 3);
        Assert.Equal("flex", body.GetProperty("service_tier").GetString());
        Assert.Equal(7, body.GetProperty("max_tokens").GetInt32());
        Assert.False(body.TryGetProperty("max_completion_tokens", out _));
    }

    [Fact]
    public async Task GetService_GivesMetadataAndOurClient()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server, model: "default-model");
        using var client = typed.AsIChatClient();

        var metadata = client.GetService<ChatClientMetadata>();

        Assert.Equal("openai", metadata!.ProviderName);
        Assert.Equal(server.BaseAddress, metadata.ProviderUri);
        Assert.Equal("default-model", metadata.DefaultModelId);
        Assert.Same(typed, client.GetService<IChatCompletionsClient>());
        Assert.Same(typed, client.GetService<ChatCompletionsClient>());
        Assert.Same(client, client.GetService<IChatClient>());
        Assert.Null(client.GetService<ChatClientMetadata>("key"));
    }

    [Fact]
    public async Task Dispose_LeavesTheTypedClientUsable()
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server);

        typed.AsIChatClient().Dispose();

        Assert.Equal("Hello from FakeLlmServer.", (await typed.CompleteAsync(TestClients.Hello())).Content);
    }

    [Fact]
    public async Task AddChatCompletionsClient_RegistersIChatClient_DefaultAndKeyed()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o => { o.BaseAddress = server.BaseAddress; o.Model = "m-default"; });
        services.AddChatCompletionsClient("fast", o => { o.BaseAddress = server.BaseAddress; o.Model = "m-fast"; });
        await using var provider = services.BuildServiceProvider();

        var chat = provider.GetRequiredService<IChatClient>();
        var fast = provider.GetRequiredKeyedService<IChatClient>("fast");
        await chat.GetResponseAsync("a");
        await fast.GetResponseAsync("b");

        Assert.Same(provider.GetRequiredService<IChatCompletionsClient>(), chat.GetService<IChatCompletionsClient>());
        Assert.Same(provider.GetRequiredKeyedService<IChatCompletionsClient>("fast"), fast.GetService<IChatCompletionsClient>());
        Assert.Equal("m-default", JsonElement.Parse(server.Requests[0].Body).GetProperty("model").GetString());
        Assert.Equal("m-fast", JsonElement.Parse(server.Requests[1].Body).GetProperty("model").GetString());
    }

    [Fact]
    public async Task AddChatCompletionsClient_AnIChatClientTheAppRegistered_StaysAndAddChatClientPipelinesWork()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o => { o.BaseAddress = server.BaseAddress; o.Model = "m"; });
        services.AddChatClient(sp => sp.GetRequiredService<IChatCompletionsClient>().AsIChatClient()).UseFunctionInvocation();
        await using var provider = services.BuildServiceProvider();

        var chat = provider.GetRequiredService<IChatClient>();

        Assert.NotNull(chat.GetService<FunctionInvokingChatClient>());
        Assert.Equal("Hello from FakeLlmServer.", (await chat.GetResponseAsync("hi")).Text);
    }

    private static void AssertSecondRequestAnsweredTheCall(FakeLlmServer server)
    {
        Assert.Equal(2, server.Requests.Count);
        var messages = JsonElement.Parse(server.Requests[1].Body).GetProperty("messages");
        var call = messages[1].GetProperty("tool_calls")[0];
        Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
        Assert.Equal("tool", messages[2].GetProperty("role").GetString());
        Assert.Equal(call.GetProperty("id").GetString(), messages[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("""{"temperature":21}""", messages[2].GetProperty("content").GetString());
    }
}
