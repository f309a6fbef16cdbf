using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatCompletionRequestTests
{
    private const string WeatherSchema =
        """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""";

    private const string AnswerSchema =
        """{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false}""";

    [Fact]
    public void Serialize_FullRequest_WritesExactSnakeCaseJson()
    {
        var request = CreateFullRequest();

        var json = JsonSerializer.Serialize(request, LlmJsonContext.Relaxed.ChatCompletionRequest);

        const string Expected =
            "{" +
            "\"model\":\"gpt-4o\"," +
            "\"messages\":[" +
            "{\"role\":\"developer\",\"content\":\"Be terse.\"}," +
            "{\"role\":\"system\",\"content\":\"You are a weather bot.\"}," +
            "{\"role\":\"user\",\"content\":\"Weather in Paris?\"}," +
            "{\"role\":\"user\",\"content\":[" +
            "{\"type\":\"text\",\"text\":\"What is this?\"}," +
            "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/a.png\",\"detail\":\"low\"}}," +
            "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBO+w0K\"}}" +
            "]}," +
            "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
            "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}" +
            "]}," +
            "{\"role\":\"tool\",\"content\":\"{\\\"temp_c\\\":21}\",\"tool_call_id\":\"call_1\"}," +
            "{\"role\":\"assistant\",\"content\":\"It is 21 °C in Paris.\"}," +
            "{\"role\":\"user\",\"content\":\"Merci\",\"name\":\"alice\"}" +
            "]," +
            "\"temperature\":0.2," +
            "\"top_p\":0.9," +
            "\"max_tokens\":256," +
            "\"max_completion_tokens\":512," +
            "\"stop\":[\"\\n\\n\",\"END\"]," +
            "\"seed\":42," +
            "\"n\":1," +
            "\"user\":\"user-1234\"," +
            "\"presence_penalty\":0.5," +
            "\"frequency_penalty\":-0.5," +
            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Gets the weather.\",\"parameters\":" + WeatherSchema + ",\"strict\":true}}]," +
            "\"tool_choice\":\"required\"," +
            "\"parallel_tool_calls\":false," +
            "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"answer\",\"schema\":" + AnswerSchema + ",\"strict\":true,\"description\":\"The answer.\"}}," +
            "\"reasoning_effort\":\"low\"," +
            "\"stream\":true," +
            "\"stream_options\":{\"include_usage\":true}," +
            "\"service_tier\":\"flex\"," +
            "\"store\":false," +
            "\"metadata\":{\"tenant\":\"t1\"}," +
            "\"top_k\":5" +
            "}";
        Assert.Equal(Expected, json);
    }

    [Fact]
    public void Serialize_DefaultContext_WritesTheSameJsonWithMoreEscaping()
    {
        var request = CreateFullRequest();

        var escaped = JsonSerializer.Serialize(request, LlmJsonContext.Default.ChatCompletionRequest);
        var relaxed = JsonSerializer.Serialize(request, LlmJsonContext.Relaxed.ChatCompletionRequest);

        Assert.Contains("\\u0022city\\u0022", escaped, StringComparison.Ordinal);
        Assert.True(escaped.Length > relaxed.Length);
        using var escapedDocument = JsonDocument.Parse(escaped);
        using var relaxedDocument = JsonDocument.Parse(relaxed);
        Assert.True(JsonElement.DeepEquals(escapedDocument.RootElement, relaxedDocument.RootElement));
    }

    [Fact]
    public void Serialize_MinimalRequest_WritesOnlyMessages()
    {
        var request = new ChatCompletionRequest([ChatMessage.User("Hi")]);

        var json = JsonSerializer.Serialize(request, LlmJsonContext.Default.ChatCompletionRequest);

        Assert.Equal("""{"messages":[{"role":"user","content":"Hi"}]}""", json);
    }

    [Fact]
    public void Serialize_StreamOptionsWithoutStream_LeavesThemOut()
    {
        var request = new ChatCompletionRequest([ChatMessage.User("Hi")])
        {
            Model = "gpt-4o-mini",
            StreamOptions = new ChatStreamOptions { IncludeUsage = true, IncludeObfuscation = false },
        };

        var unstreamed = JsonSerializer.Serialize(request, LlmJsonContext.Default.ChatCompletionRequest);
        request.Stream = true;
        var streamed = JsonSerializer.Serialize(request, LlmJsonContext.Default.ChatCompletionRequest);

        Assert.Equal("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""", unstreamed);
        Assert.Equal(
            """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}""",
            streamed);
    }

    [Fact]
    public void Serialize_ToolChoiceForms_WritesStringsAndObject()
    {
        static string ToolChoiceJson(ChatToolChoice choice)
        {
            var request = new ChatCompletionRequest { ToolChoice = choice };
            return JsonSerializer.Serialize(request, LlmJsonContext.Default.ChatCompletionRequest);
        }

        Assert.Equal("""{"messages":[],"tool_choice":"auto"}""", ToolChoiceJson(ChatToolChoice.Auto));
        Assert.Equal("""{"messages":[],"tool_choice":"none"}""", ToolChoiceJson(ChatToolChoice.None));
        Assert.Equal("""{"messages":[],"tool_choice":"required"}""", ToolChoiceJson(ChatToolChoice.Required));
        Assert.Equal(
            """{"messages":[],"tool_choice":{"type":"function","function":{"name":"get_weather"}}}""",
            ToolChoiceJson(ChatToolChoice.Function("get_weather")));
    }

    [Fact]
    public void Serialize_ResponseFormatForms_WritesEachShape()
    {
        static string FormatJson(ChatResponseFormat format)
        {
            var request = new ChatCompletionRequest { ResponseFormat = format };
            return JsonSerializer.Serialize(request, LlmJsonContext.Default.ChatCompletionRequest);
        }

        using var schema = JsonDocument.Parse("""{"type":"object"}""");

        Assert.Equal("""{"messages":[],"response_format":{"type":"text"}}""", FormatJson(ChatResponseFormat.Text));
        Assert.Equal("""{"messages":[],"response_format":{"type":"json_object"}}""", FormatJson(ChatResponseFormat.JsonObject));
        Assert.Equal(
            """{"messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"bare","schema":{"type":"object"}}}}""",
            FormatJson(ChatResponseFormat.JsonSchema("bare", schema.RootElement)));
    }

    [Fact]
    public void Deserialize_SerializedRequest_RoundTrips()
    {
        var json = JsonSerializer.Serialize(CreateFullRequest(), LlmJsonContext.Default.ChatCompletionRequest);

        var request = JsonSerializer.Deserialize(json, LlmJsonContext.Default.ChatCompletionRequest)!;

        Assert.Equal("gpt-4o", request.Model);
        Assert.Equal(8, request.Messages.Count);
        Assert.Equal(ChatRole.Developer, request.Messages[0].Role);
        Assert.Equal(3, request.Messages[3].ContentParts!.Count);
        Assert.Equal("get_weather", request.Messages[4].ToolCalls![0].FunctionCall.Name);
        Assert.Equal(0.2f, request.Temperature);
        Assert.Equal(42L, request.Seed);
        Assert.Same(ChatToolChoice.Required, request.ToolChoice);
        Assert.Equal("answer", request.ResponseFormat!.SchemaName);
        Assert.True(request.Stream);
        Assert.True(request.StreamOptions!.IncludeUsage);
        Assert.Equal(5, request.AdditionalProperties!["top_k"].GetInt32());
        Assert.Equal(json, JsonSerializer.Serialize(request, LlmJsonContext.Default.ChatCompletionRequest));
    }

    [Fact]
    public void Constructor_Messages_CopiesThem()
    {
        var messages = new List<ChatMessage> { ChatMessage.User("Hi") };

        var request = new ChatCompletionRequest(messages);
        messages.Add(ChatMessage.User("Later"));

        Assert.Single(request.Messages);
        request.Messages.Add(ChatMessage.Assistant("Hello"));
        Assert.Equal(2, request.Messages.Count);
    }

    [Fact]
    public void Constructor_NullMessages_Throws()
    {
        Assert.Throws<ArgumentNullException>("messages", () => new ChatCompletionRequest(null!));
        Assert.Throws<ArgumentException>("messages", () => new ChatCompletionRequest([ChatMessage.User("Hi"), null!]));
    }

    [Fact]
    public void Messages_SetNull_Throws()
    {
        var request = new ChatCompletionRequest();

        Assert.Empty(request.Messages);
        Assert.Throws<ArgumentNullException>("value", () => request.Messages = null!);
    }

    private static ChatCompletionRequest CreateFullRequest()
    {
        using var weather = JsonDocument.Parse(WeatherSchema);
        using var answer = JsonDocument.Parse(AnswerSchema);
        return new ChatCompletionRequest(
        [
            ChatMessage.Developer("Be terse."),
            ChatMessage.System("You are a weather bot."),
            ChatMessage.User("Weather in Paris?"),
            ChatMessage.User(
                ChatContentPart.Text("What is this?"),
                ChatContentPart.ImageUrl("https://example.com/a.png", "low"),
                ChatContentPart.ImageUrl("data:image/png;base64,iVBO+w0K")),
            ChatMessage.Assistant([ChatToolCall.Function("call_1", "get_weather", """{"city":"Paris"}""")]),
            ChatMessage.Tool("call_1", """{"temp_c":21}"""),
            ChatMessage.Assistant("It is 21 °C in Paris."),
            new ChatMessage(ChatRole.User, "Merci") { Name = "alice" },
        ])
        {
            Model = "gpt-4o",
            Temperature = 0.2f,
            TopP = 0.9f,
            MaxTokens = 256,
            MaxCompletionTokens = 512,
            Stop = ["\n\n", "END"],
            Seed = 42,
            N = 1,
            User = "user-1234",
            PresencePenalty = 0.5f,
            FrequencyPenalty = -0.5f,

            // The documents are disposed on return: the factories must have detached the schemas.
            Tools = [ChatTool.Function("get_weather", "Gets the weather.", weather.RootElement, strict: true)],
            ToolChoice = ChatToolChoice.Required,
            ParallelToolCalls = false,
            ResponseFormat = ChatResponseFormat.JsonSchema("answer", answer.RootElement, strict: true, description: "The answer."),
            ReasoningEffort = "low",
            Stream = true,
            StreamOptions = new ChatStreamOptions { IncludeUsage = true },
            ServiceTier = "flex",
            Store = false,
            Metadata = new Dictionary<string, string> { ["tenant"] = "t1" },
            AdditionalProperties = new Dictionary<string, JsonElement> { ["top_k"] = ParseElement("5") },
        };
    }

    private static JsonElement ParseElement(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
