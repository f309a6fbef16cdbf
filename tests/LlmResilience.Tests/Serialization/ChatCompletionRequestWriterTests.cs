using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Serialization;

/// <summary>
/// The hand-written request writer against the source-generated contract it replaces on the hot path: over seeded
/// random requests (every member present or absent, awkward strings and numbers, every message shape, extension data),
/// both must write the same bytes.
/// </summary>
public sealed class ChatCompletionRequestWriterTests
{
    private const int Cases = 3000;

    private static readonly string[] Strings =
    [
        string.Empty, "a", "gpt-4o-mini", "He said \"hi\" \\ back", "línea\nnueva\ttab", "中文提示", "emoji 🚀", "<script>&'+</script>",
        "\u0001\u001f control", "surrogate \ud83d\ude00 pair",
    ];

    private static readonly float[] Floats = [0f, 1f, -2f, 0.7f, 0.1f, 1.5e-7f, 3.4028235e38f, 1e-45f, 0.30000001f, 2f / 3f];

    [Fact]
    public void Write_GeneratedRequests_SameBytesAsTheGeneratedContract()
    {
        var random = new Random(20261130);
        var membersSeen = new HashSet<string>();
        for (var i = 0; i < Cases; i++)
        {
            var request = Generate(random);
            // The client passes the model (the request's own or its default) and the stream flag; the writer must write the
            // request as if it held them, without a copy of it.
            var model = random.Next(3) == 0 ? "client-default" : request.Model;
            var stream = random.Next(2) == 0;
            var actual = WriteByHand(request, model, stream);
            var expected = JsonSerializer.SerializeToUtf8Bytes(AsSent(request, model, stream), LlmJsonContext.Relaxed.ChatCompletionRequest);
            if (!expected.AsSpan().SequenceEqual(actual))
            {
                Assert.Fail($"Case {i}:\nexpected {Encoding.UTF8.GetString(expected)}\nactual   {Encoding.UTF8.GetString(actual)}");
            }

            using var document = JsonDocument.Parse(actual);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                membersSeen.Add(property.Name);
            }
        }

        // The generator reached every member the contract writes (and extension data), so no member went untested.
        string[] all =
        [
            "model", "messages", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "n", "user", "presence_penalty",
            "frequency_penalty", "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort", "stream", "stream_options",
            "service_tier", "store", "metadata", "top_k",
        ];
        Assert.Empty(all.Except(membersSeen));
    }

    [Fact]
    public void Write_StreamOptionsWithoutStreaming_AreLeftOut()
    {
        var request = new ChatCompletionRequest([ChatMessage.User("hi")]) { Model = "m", StreamOptions = new ChatStreamOptions { IncludeUsage = true } };

        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8.GetString(WriteByHand(request, "m", stream: false)));
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}""",
            Encoding.UTF8.GetString(WriteByHand(request, "m", stream: true)));
    }

    [Fact]
    public void Write_TheModelAndStreamGiven_WinOverTheRequestsOwn_AndTheRequestIsLeftAsItWas()
    {
        var request = new ChatCompletionRequest([ChatMessage.User("hi")]) { Model = "theirs", Stream = false };

        Assert.Equal("""{"model":"ours","messages":[{"role":"user","content":"hi"}],"stream":true}""", Encoding.UTF8.GetString(WriteByHand(request, "ours", stream: true)));
        Assert.Equal("""{"model":"ours","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8.GetString(WriteByHand(request, "ours", stream: false)));
        Assert.Equal(("theirs", false), (request.Model, request.Stream));
    }

    private static byte[] WriteByHand(ChatCompletionRequest request, string? model, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true }))
        {
            ChatCompletionRequestWriter.Write(writer, request, model, stream, LlmJsonContext.Relaxed.Options);
        }

        return buffer.WrittenSpan.ToArray();
    }

    // The reference: the request itself holding the model and the flag as sent (written after the writer ran, so it saw
    // the request's own values).
    private static ChatCompletionRequest AsSent(ChatCompletionRequest request, string? model, bool stream)
    {
        request.Model = model;
        request.Stream = stream ? true : null;
        return request;
    }

    private static ChatCompletionRequest Generate(Random random)
    {
        bool Some() => random.Next(3) == 0;
        string AnyString() => Strings[random.Next(Strings.Length)];
        float AnyFloat() => random.Next(4) == 0 ? (float)(random.NextDouble() * 4 - 2) : Floats[random.Next(Floats.Length)];

        var messages = new List<ChatMessage>();
        var count = random.Next(1, 5);
        for (var i = 0; i < count; i++)
        {
            messages.Add(random.Next(8) switch
            {
                0 => ChatMessage.System(AnyString()),
                1 => ChatMessage.Developer(AnyString()),
                2 => ChatMessage.User(ChatContentPart.Text(AnyString()), ChatContentPart.ImageUrl("data:image/png;base64,iVBO+/=", Some() ? "low" : null)),
                3 => ChatMessage.Assistant(AnyString()),
                4 => ChatMessage.Assistant([ChatToolCall.Function("call_1", "get_weather", """{"city":"Zürich"}""")]),
                5 => ChatMessage.Tool("call_1", AnyString()),
                _ => ChatMessage.User(AnyString()),
            });
        }

        var request = new ChatCompletionRequest(messages) { Model = Some() && Some() ? null : AnyString() };
        if (Some()) request.Temperature = AnyFloat();
        if (Some()) request.TopP = AnyFloat();
        if (Some()) request.MaxTokens = random.Next(int.MinValue, int.MaxValue);
        if (Some()) request.MaxCompletionTokens = random.Next(0, 100_000);
        if (Some()) request.Stop = Some() ? [] : [AnyString(), AnyString()];
        if (Some()) request.Seed = random.NextInt64(long.MinValue, long.MaxValue);
        if (Some()) request.N = random.Next(1, 5);
        if (Some()) request.User = AnyString();
        if (Some()) request.PresencePenalty = AnyFloat();
        if (Some()) request.FrequencyPenalty = AnyFloat();
        if (Some())
        {
            using var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}}}""");
            request.Tools = [ChatTool.Function("get_weather", Some() ? AnyString() : null, schema.RootElement.Clone(), Some() ? true : null)];
        }

        if (Some()) request.ToolChoice = random.Next(4) switch { 0 => ChatToolChoice.Auto, 1 => ChatToolChoice.None, 2 => ChatToolChoice.Required, _ => ChatToolChoice.Function("get_weather") };
        if (Some()) request.ParallelToolCalls = Some();
        if (Some())
        {
            using var schema = JsonDocument.Parse("""{"type":"object"}""");
            request.ResponseFormat = random.Next(3) switch { 0 => ChatResponseFormat.Text, 1 => ChatResponseFormat.JsonObject, _ => ChatResponseFormat.JsonSchema("answer", schema.RootElement.Clone(), true) };
        }

        if (Some()) request.ReasoningEffort = "low";
        if (Some()) request.StreamOptions = new ChatStreamOptions { IncludeUsage = Some() ? true : null, IncludeObfuscation = Some() ? false : null };
        if (Some()) request.ServiceTier = "flex";
        if (Some()) request.Store = Some();
        if (Some()) request.Metadata = new Dictionary<string, string> { ["k"] = AnyString(), ["ünï"] = "v" };
        if (Some())
        {
            using var extra = JsonDocument.Parse("""{"top_k":40,"prediction":{"type":"content","content":"x"}}""");
            request.AdditionalProperties = extra.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        }

        // The caller's own flag, which the client overrides.
        if (Some()) request.Stream = Some();
        return request;
    }
}
