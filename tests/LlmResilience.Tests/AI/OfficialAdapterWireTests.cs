using System.ClientModel;
using System.Text.Json;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.Extensions.AI;
using OpenAI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AIChatRole = Microsoft.Extensions.AI.ChatRole;

namespace LlmResilience.Tests.AI;

/// <summary>
/// Side by side with Microsoft.Extensions.AI.OpenAI's adapter (over OpenAI 2.15.0): the same messages and ChatOptions,
/// sent by each to FakeLlmServer, must arrive as the same JSON (compared as JSON, so key order and whitespace do not count;
/// strings that hold JSON, such as tool arguments, are compared as the JSON they hold).
/// </summary>
public sealed class OfficialAdapterWireTests
{
    private const string Model = "gpt-4o-mini";

    private static readonly JsonElement WeatherSchema = JsonElement.Parse(
        """{"type":"object","properties":{"city":{"type":"string","description":"The city"}},"required":["city"],"additionalProperties":false}""");

    public static TheoryData<string> Cases() => [.. CaseOptions.Keys];

    private static readonly Dictionary<string, Func<ChatOptions>> CaseOptions = new()
    {
        ["none"] = () => new ChatOptions(),
        ["sampling"] = () => new ChatOptions
        {
            ModelId = "gpt-4.1",
            Temperature = 0.5f,
            TopP = 0.25f,
            MaxOutputTokens = 300,
            StopSequences = ["END", "STOP"],
            Seed = 7,
            FrequencyPenalty = 0.5f,
            PresencePenalty = -0.5f,
        },
        ["instructions"] = () => new ChatOptions { Instructions = "Answer in French." },
        ["text format"] = () => new ChatOptions { ResponseFormat = ChatResponseFormat.Text },
        ["json format"] = () => new ChatOptions { ResponseFormat = ChatResponseFormat.Json },
        ["json schema format"] = () => new ChatOptions
        {
            ResponseFormat = ChatResponseFormat.ForJsonSchema(WeatherSchema, "weather", "A weather report."),
        },
        ["tools auto"] = () => new ChatOptions { Tools = [Weather()] },
        ["tools none"] = () => new ChatOptions { Tools = [Weather()], ToolMode = ChatToolMode.None },
        ["tools required"] = () => new ChatOptions { Tools = [Weather()], ToolMode = ChatToolMode.RequireAny },
        ["tools specific"] = () => new ChatOptions { Tools = [Weather()], ToolMode = ChatToolMode.RequireSpecific("get_weather") },
        ["tools single call"] = () => new ChatOptions { Tools = [Weather()], AllowMultipleToolCalls = false },
        ["tools multiple calls"] = () => new ChatOptions { Tools = [Weather()], AllowMultipleToolCalls = true },
        ["reasoning"] = () => new ChatOptions { Reasoning = new ReasoningOptions { Effort = ReasoningEffort.High } },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GetResponseAsync_SameOptions_SameWireJsonAsTheOfficialAdapter(string name)
    {
        var (ours, theirs) = await SendBothAsync(Conversation(), CaseOptions[name](), stream: false);

        AssertSameJson(theirs, ours);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GetStreamingResponseAsync_SameOptions_SameWireJsonAsTheOfficialAdapter(string name)
    {
        var (ours, theirs) = await SendBothAsync(Conversation(), CaseOptions[name](), stream: true);

        AssertSameJson(theirs, ours);
    }

    [Fact]
    public async Task GetResponseAsync_ImagesAsDataAndUri_SameWireJsonAsTheOfficialAdapter()
    {
        List<AIChatMessage> messages =
        [
            new(AIChatRole.User,
            [
                new TextContent("Compare these."),
                new DataContent(new byte[] { 1, 2, 3, 4 }, "image/png"),
                new UriContent("https://example.com/cat.jpg", "image/jpeg") { AdditionalProperties = new() { ["detail"] = "high" } },
            ]),
        ];

        var (ours, theirs) = await SendBothAsync(messages, new ChatOptions(), stream: false);

        AssertSameJson(theirs, ours);
    }

    private static AIFunctionDeclaration Weather() => AIFunctionFactory.CreateDeclaration("get_weather", "Gets the weather.", WeatherSchema);

    // A conversation with every message kind: system, user, an assistant tool call, its result, an assistant answer.
    private static List<AIChatMessage> Conversation() =>
    [
        new(AIChatRole.System, "You are terse."),
        new(AIChatRole.User, "Weather in Paris?"),
        new(AIChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]),
        new(AIChatRole.Tool, [new FunctionResultContent("call_1", "21 degrees")]),
        new(AIChatRole.Assistant, "21 degrees."),
        new(AIChatRole.User, "And tomorrow?"),
    ];

    private static async Task<(JsonElement Ours, JsonElement Theirs)> SendBothAsync(List<AIChatMessage> messages, ChatOptions options, bool stream)
    {
        await using var server = await FakeLlmServer.StartAsync();
        using var typed = TestClients.Chat(server, model: Model);
        using var ours = typed.AsIChatClient();
        using var theirs = new OpenAI.Chat.ChatClient(Model, new ApiKeyCredential("sk-test"), new OpenAIClientOptions { Endpoint = server.BaseAddress }).AsIChatClient();

        foreach (var client in new[] { ours, theirs })
        {
            if (stream)
            {
                await client.GetStreamingResponseAsync(messages, options.Clone()).ToListAsync();
            }
            else
            {
                await client.GetResponseAsync(messages, options.Clone());
            }
        }

        Assert.Equal(2, server.Requests.Count);
        return (JsonElement.Parse(server.Requests[0].Body), JsonElement.Parse(server.Requests[1].Body));
    }

    private static void AssertSameJson(JsonElement expected, JsonElement actual)
    {
        var differences = new List<string>();
        Compare("$", expected, actual, differences);
        Assert.True(differences.Count == 0, $"Ours differs from the official adapter:\n{string.Join('\n', differences)}\nOfficial: {expected}\nOurs: {actual}");
    }

    private static void Compare(string path, JsonElement expected, JsonElement actual, List<string> differences)
    {
        if (expected.ValueKind == JsonValueKind.String && actual.ValueKind == JsonValueKind.String
            && TryParseObject(expected.GetString()) is { } expectedJson && TryParseObject(actual.GetString()) is { } actualJson)
        {
            Compare(path + "(json)", expectedJson, actualJson, differences);
            return;
        }

        if (expected.ValueKind != actual.ValueKind)
        {
            differences.Add($"{path}: official {expected.ValueKind} {Short(expected)}, ours {actual.ValueKind} {Short(actual)}");
            return;
        }

        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var names = expected.EnumerateObject().Select(p => p.Name).Union(actual.EnumerateObject().Select(p => p.Name));
                foreach (var name in names)
                {
                    // A null and a missing member mean the same to the API; ours writes "content":null on an assistant
                    // message that only calls tools (as many servers' own examples do), the official adapter leaves it out.
                    var inExpected = expected.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null;
                    var inActual = actual.TryGetProperty(name, out var a) && a.ValueKind != JsonValueKind.Null;
                    if (!inExpected && !inActual)
                    {
                        continue;
                    }

                    if (inExpected && inActual)
                    {
                        Compare($"{path}.{name}", e, a, differences);
                    }
                    else
                    {
                        differences.Add(inExpected ? $"{path}.{name}: official sends {Short(e)}, ours nothing" : $"{path}.{name}: ours sends {Short(a)}, official nothing");
                    }
                }

                break;
            case JsonValueKind.Array:
                if (expected.GetArrayLength() != actual.GetArrayLength())
                {
                    differences.Add($"{path}: official {expected.GetArrayLength()} items, ours {actual.GetArrayLength()}");
                    return;
                }

                for (var i = 0; i < expected.GetArrayLength(); i++)
                {
                    Compare($"{path}[{i}]", expected[i], actual[i], differences);
                }

                break;
            case JsonValueKind.Number:
                if (Math.Abs(expected.GetDouble() - actual.GetDouble()) > 1e-6)
                {
                    differences.Add($"{path}: official {expected}, ours {actual}");
                }

                break;
            default:
                if (expected.GetRawText() != actual.GetRawText())
                {
                    differences.Add($"{path}: official {expected.GetRawText()}, ours {actual.GetRawText()}");
                }

                break;
        }
    }

    private static JsonElement? TryParseObject(string? text)
    {
        if (text is null || !text.TrimStart().StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JsonElement.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Short(JsonElement element) => element.GetRawText() is { Length: > 80 } text ? text[..80] + "…" : element.GetRawText();
}
