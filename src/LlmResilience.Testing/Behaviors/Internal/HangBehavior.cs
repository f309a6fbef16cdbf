namespace LlmResilience.Testing;

/// <summary>Never answers; ends when the client goes away or the server is disposed.</summary>
internal sealed class HangBehavior() : FakeBehavior("Hang")
{
    public static readonly HangBehavior Instance = new();

    internal override Task ExecuteAsync(FakeRequestContext context) => Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken);
}
