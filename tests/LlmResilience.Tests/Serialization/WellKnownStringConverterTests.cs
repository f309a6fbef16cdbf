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

        // Roles and finish reasons are structs now; their converters hand out the named values, whose strings are shared.
        Assert.Same(first.FinishReason!.Value.Value, second.FinishReason!.Value.Value);
        Assert.Same(ChatFinishReason.Stop.Value, first.FinishReason.Value.Value);
        Assert.Same(ChatRole.Assistant.Value, first.Choices[0].Message.Role.Value);
        Assert.Same(ChatRole.Assistant.Value, second.Choices[0].Message.Role.Value);
    }

    [Fact]
    public void Read_OtherOrEscapedValues_ReadsThemAsUsual()
    {
        var other = Deserialize("""{"object":"chat.completion.v2","service_tier":"batch"}""");
        var escaped = Deserialize("""{"object":"chat.\u0063ompletion","service_tier":"\u0064efault"}""");

        Assert.Equal("chat.completion.v2", other.Object);
        Assert.Equal("batch", other.ServiceTier);
        Assert.Equal("chat.completion", escaped.Object);
        Assert.Equal("default", escaped.ServiceTier);
    }

    [Fact]
    public void Read_Null_ReadsNull()
    {
        Assert.Null(Deserialize("""{"service_tier":null}""").ServiceTier);
    }

    private static ChatCompletion Deserialize(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), LlmJsonContext.Default.ChatCompletion)!;
}
