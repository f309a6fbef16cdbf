namespace LlmResilience.Tests.Chat;

public sealed class LlmFailureKindTests
{
    [Fact]
    public void Unknown_IsTheDefault()
    {
        Assert.Equal(LlmFailureKind.Unknown, default(LlmFailureKind));
    }
}
