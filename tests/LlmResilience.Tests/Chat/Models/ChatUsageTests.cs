using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatUsageTests
{
    [Fact]
    public void Deserialize_NullCounts_ReadsZero()
    {
        // LiteLLM and some gateways write null where OpenAI writes 0.
        const string Json = """
            {"usage":{"prompt_tokens":10,"completion_tokens":null,"total_tokens":10,
             "prompt_tokens_details":{"cached_tokens":null,"audio_tokens":null,"text_tokens":10,"image_tokens":null},
             "completion_tokens_details":{"reasoning_tokens":null,"audio_tokens":null,"accepted_prediction_tokens":null,"rejected_prediction_tokens":null}}}
            """;

        var usage = JsonSerializer.Deserialize(Json, LlmJsonContext.Default.ChatCompletion)!.Usage!;

        Assert.Equal((10, 0, 10), (usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens));
        Assert.Equal((0, 0), (usage.PromptTokensDetails!.CachedTokens, usage.PromptTokensDetails.AudioTokens));
        Assert.Equal(0, usage.CompletionTokensDetails!.ReasoningTokens);
    }

    [Fact]
    public void Deserialize_CountAsString_Throws()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"usage":{"prompt_tokens":"ten"}}""", LlmJsonContext.Default.ChatCompletion));
    }

    [Fact]
    public void Serialize_Usage_WritesSnakeCase()
    {
        var completion = new ChatCompletion
        {
            Usage = new ChatUsage
            {
                PromptTokens = 1,
                CompletionTokens = 2,
                TotalTokens = 3,
                PromptTokensDetails = new ChatPromptTokensDetails { CachedTokens = 4 },
                CompletionTokensDetails = new ChatCompletionTokensDetails { ReasoningTokens = 5 },
            },
        };

        var json = JsonSerializer.Serialize(completion, LlmJsonContext.Default.ChatCompletion);

        Assert.Contains(
            """{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":5,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}""",
            json,
            StringComparison.Ordinal);
    }
}
