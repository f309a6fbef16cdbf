namespace LlmResilience.Testing;

/// <summary>A stream whose data event is a chunk cut off mid-object, then <c>[DONE]</c>.</summary>
internal sealed class MalformedSseBehavior() : FakeBehavior("MalformedSse")
{
    public static readonly MalformedSseBehavior Instance = new();

    internal override async Task ExecuteAsync(FakeRequestContext context)
    {
        var stream = await ChatStream.StartAsync(context, includeUsage: false).ConfigureAwait(false);
        var chunk = ChatCompletionJson.Chunk(context.NewIdentity(), "assistant", context.Options.DefaultContent, null, usageNull: false);
        await stream.WriteDataAsync(chunk[..(chunk.Length / 2)]).ConfigureAwait(false);
        await stream.WriteDoneAsync().ConfigureAwait(false);
    }
}
