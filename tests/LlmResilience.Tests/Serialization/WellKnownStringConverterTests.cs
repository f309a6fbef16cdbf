using System.Text;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Serialization;

public sealed class WellKnownStringConverterTests
{
    [Fact]
    public void Read_KnownValues_ReturnsSharedInstances()
    {
        const string Json = """{"object":"chat.completion","service_tier":"default","choices":[{"finish_reason":"stop","message":{"role":"assistant"}}]}""";

        var first = Deserialize(Json);
        var second = Deserialize(Json);

        Assert.Same(first.Object, second.Object);
        Assert.Same(first.ServiceTier, second.ServiceTier);
        Assert.Same(first.FinishReason, second.FinishReason);
        Assert.Same(first.Choices[0].Message.Role, second.Choices[0].Message.Role);
    }

    [Fact]
    public void Read_OtherOrEscapedValues_ReadsThemAsUsual()
    {
        var other = Deserialize("""{"object":"chat.completion.v2","choices":[{"finish_reason":"stop_sequence"}]}""");
        var escaped = Deserialize("""{"object":"chat.completion","choices":[{"finish_reason":"\u0073top"}]}""");

        Assert.Equal("chat.completion.v2", other.Object);
        Assert.Equal("stop_sequence", other.FinishReason);
        Assert.Equal("stop", escaped.FinishReason);
    }

    [Fact]
    public void Read_Null_ReadsNull()
    {
        Assert.Null(Deserialize("""{"choices":[{"finish_reason":null}]}""").FinishReason);
    }

    private static ChatCompletion Deserialize(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), LlmJsonContext.Default.ChatCompletion)!;
}
