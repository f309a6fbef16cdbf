namespace LlmResilience.Testing;

/// <summary>Success as an SSE stream of given deltas, paced by an interval.</summary>
internal sealed class OkStreamBehavior(string[] deltas, TimeSpan interval, bool includeUsage)
    : FakeBehavior("OkStream", $"OkStream({deltas.Length} deltas, {interval.TotalMilliseconds:0} ms apart{(includeUsage ? ", usage" : string.Empty)})")
{
    internal override Task ExecuteAsync(FakeRequestContext context) =>
        ChatStream.WriteCompletionAsync(context, deltas, interval, includeUsage || context.Request.IncludeUsage);
}
