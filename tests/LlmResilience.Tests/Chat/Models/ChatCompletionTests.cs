using System.Text;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatCompletionTests
{
    // A gpt-4.1 answer as OpenAI sends it, with fields this library does not model sprinkled in
    // (annotations, logprobs, Groq's x_groq, Azure's prompt_filter_results, a future object and array).
    private const string TextCompletion = """
        {
          "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
          "object": "chat.completion",
          "created": 1741569952,
          "model": "gpt-4.1-2025-04-14",
          "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {"hate": {"filtered": false, "severity": "safe"}}}],
          "choices": [
            {
              "index": 0,
              "message": {
                "role": "assistant",
                "content": "Hello! How can I assist you today?",
                "refusal": null,
                "annotations": [],
                "audio": null
              },
              "logprobs": null,
              "finish_reason": "stop",
              "content_filter_results": {}
            }
          ],
          "usage": {
            "prompt_tokens": 1117,
            "completion_tokens": 46,
            "total_tokens": 1163,
            "prompt_tokens_details": {
              "cached_tokens": 1024,
              "audio_tokens": 0
            },
            "completion_tokens_details": {
              "reasoning_tokens": 12,
              "audio_tokens": 0,
              "accepted_prediction_tokens": 3,
              "rejected_prediction_tokens": 1
            },
            "future_tokens": {"nested": [1, 2, {"deep": true}]}
          },
          "service_tier": "default",
          "system_fingerprint": "fp_50cad350e4",
          "x_groq": {"id": "req_01jbd6g2qdfw2adyrt2az8hz4w"},
          "future_flag": true,
          "future_number": 1.5e3
        }
        """;

    private const string ToolCallsCompletion = """
        {
          "id": "chatcmpl-abc123",
          "object": "chat.completion",
          "created": 1699896916,
          "model": "gpt-4o-mini-2024-07-18",
          "choices": [
            {
              "index": 0,
              "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [
                  {
                    "id": "call_abc123",
                    "type": "function",
                    "function": {
                      "name": "get_current_weather",
                      "arguments": "{\n\"location\": \"Boston, MA\"\n}"
                    }
                  },
                  {
                    "id": "call_def456",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{\"tz\":\"America/New_York\"}", "parsed": null}
                  }
                ],
                "refusal": null
              },
              "logprobs": null,
              "finish_reason": "tool_calls"
            }
          ],
          "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99},
          "system_fingerprint": null
        }
        """;

    private const string RefusalCompletion = """
        {
          "id": "chatcmpl-9nYAG9LPNonX8DAyrkwYfemr3C8HC",
          "object": "chat.completion",
          "created": 1721596428,
          "model": "gpt-4o-2024-08-06",
          "choices": [
            {
              "index": 0,
              "message": {
                "role": "assistant",
                "content": null,
                "refusal": "I'm sorry, I cannot assist with that request."
              },
              "logprobs": null,
              "finish_reason": "stop"
            }
          ],
          "usage": {"prompt_tokens": 81, "completion_tokens": 11, "total_tokens": 92, "completion_tokens_details": {"reasoning_tokens": 0}},
          "system_fingerprint": "fp_3407719c7f"
        }
        """;

    [Fact]
    public void Deserialize_TextCompletion_ReadsEveryField()
    {
        var completion = Deserialize(TextCompletion);

        Assert.Equal("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", completion.Id);
        Assert.Equal("chat.completion", completion.Object);
        Assert.Equal(1741569952L, completion.Created);
        Assert.Equal(new DateTimeOffset(2025, 3, 10, 1, 25, 52, TimeSpan.Zero), completion.CreatedAt);
        Assert.Equal("gpt-4.1-2025-04-14", completion.Model);
        Assert.Equal("default", completion.ServiceTier);
        Assert.Equal("fp_50cad350e4", completion.SystemFingerprint);
        Assert.Null(completion.RequestId);

        var choice = Assert.Single(completion.Choices);
        Assert.Equal(0, choice.Index);
        Assert.Equal(ChatFinishReason.Stop, choice.FinishReason);
        Assert.Equal(ChatRole.Assistant, choice.Message.Role);
        Assert.Equal("Hello! How can I assist you today?", choice.Message.Content);
        Assert.Null(choice.Message.Refusal);
        Assert.Null(choice.Message.ToolCalls);
        Assert.Null(choice.Message.ReasoningContent);
        Assert.Equal("Hello! How can I assist you today?", completion.Content);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);

        var usage = completion.Usage!;
        Assert.Equal((1117, 46, 1163), (usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens));
        Assert.Equal((1024, 0), (usage.PromptTokensDetails!.CachedTokens, usage.PromptTokensDetails.AudioTokens));
        var details = usage.CompletionTokensDetails!;
        Assert.Equal((12, 0, 3, 1), (details.ReasoningTokens, details.AudioTokens, details.AcceptedPredictionTokens, details.RejectedPredictionTokens));
    }

    [Fact]
    public void Deserialize_ToolCallsCompletion_ReadsCallsAndNullContent()
    {
        var completion = Deserialize(ToolCallsCompletion);

        Assert.Null(completion.Content);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Null(completion.SystemFingerprint);
        Assert.Null(completion.ServiceTier);
        Assert.Null(completion.Usage!.PromptTokensDetails);
        Assert.Null(completion.Usage.CompletionTokensDetails);
        var calls = completion.Choices[0].Message.ToolCalls!;
        Assert.Equal(2, calls.Count);
        Assert.Equal(("call_abc123", "function"), (calls[0].Id, calls[0].Type));
        Assert.Equal("get_current_weather", calls[0].FunctionCall.Name);
        Assert.Equal("{\n\"location\": \"Boston, MA\"\n}", calls[0].FunctionCall.Arguments);
        Assert.Equal(("call_def456", "get_time", """{"tz":"America/New_York"}"""), (calls[1].Id, calls[1].FunctionCall.Name, calls[1].FunctionCall.Arguments));
    }

    [Fact]
    public void Deserialize_RefusalCompletion_ReadsRefusal()
    {
        var completion = Deserialize(RefusalCompletion);

        var message = completion.Choices[0].Message;
        Assert.Null(message.Content);
        Assert.Equal("I'm sorry, I cannot assist with that request.", message.Refusal);
        Assert.Null(completion.Content);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(0, completion.Usage!.CompletionTokensDetails!.ReasoningTokens);
    }

    [Fact]
    public void Deserialize_NullsAndMissingFields_ReadsEmpty()
    {
        var completion = Deserialize("""{"id":null,"object":null,"model":null,"choices":null,"usage":null,"created":0}""");
        var sparse = Deserialize("""{"choices":[{"message":null,"finish_reason":null},{}]}""");

        Assert.Equal((string.Empty, string.Empty, string.Empty), (completion.Id, completion.Object, completion.Model));
        Assert.Empty(completion.Choices);
        Assert.Null(completion.Usage);
        Assert.Null(completion.Content);
        Assert.Null(completion.FinishReason);
        Assert.Equal(DateTimeOffset.UnixEpoch, completion.CreatedAt);
        Assert.Equal(2, sparse.Choices.Count);
        Assert.Equal(ChatRole.Assistant, sparse.Choices[0].Message.Role);
        Assert.Null(sparse.Choices[1].Message.Content);
        Assert.Null(sparse.Content);
    }

    [Theory]
    [InlineData(1741569952L, "2025-03-10T01:25:52Z")]
    [InlineData(1741569952123L, "2025-03-10T01:25:52.123Z")]
    [InlineData(-5L, "1970-01-01T00:00:00Z")]
    [InlineData(long.MaxValue, "1970-01-01T00:00:00Z")]
    public void CreatedAt_SecondsMillisecondsOrGarbage_NeverThrows(long created, string expected)
    {
        var completion = new ChatCompletion { Created = created };

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), completion.CreatedAt);
    }

    [Fact]
    public void Deserialize_NullCreatedAndIndex_ReadsZero()
    {
        var completion = Deserialize("""{"created":null,"choices":[{"index":null,"message":{"content":"x"}}]}""");

        Assert.Equal(0L, completion.Created);
        Assert.Equal(0, completion.Choices[0].Index);
    }

    [Fact]
    public void Deserialize_ReasoningContent_ReadsIt()
    {
        var completion = Deserialize("""{"choices":[{"message":{"role":"assistant","content":"4","reasoning_content":"2+2=4"}}]}""");

        Assert.Equal("2+2=4", completion.Choices[0].Message.ReasoningContent);
    }

    [Fact]
    public async Task DeserializeAsync_Stream_ReadsCompletion()
    {
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(ToolCallsCompletion));

        var completion = await JsonSerializer.DeserializeAsync(stream, LlmJsonContext.Default.ChatCompletion);

        Assert.Equal("call_abc123", completion!.Choices[0].Message.ToolCalls![0].Id);
    }

    [Fact]
    public void RequestId_SetByLibrary_IsNotSerialized()
    {
        var completion = Deserialize(RefusalCompletion);
        completion.RequestId = "req_123";

        var json = JsonSerializer.Serialize(completion, LlmJsonContext.Default.ChatCompletion);

        Assert.Equal("req_123", completion.RequestId);
        Assert.DoesNotContain("req_123", json, StringComparison.Ordinal);
        Assert.DoesNotContain("request_id", json, StringComparison.Ordinal);
        Assert.DoesNotContain("created_at", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"content\":\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ObjectInitializer_BuildsAFake()
    {
        var completion = new ChatCompletion
        {
            Id = "fake",
            Choices = [new ChatChoice { Message = new ChatResponseMessage { Content = "Hi" }, FinishReason = ChatFinishReason.Stop }],
        };

        Assert.Equal("Hi", completion.Content);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    private static ChatCompletion Deserialize(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), LlmJsonContext.Default.ChatCompletion)!;
}
