namespace LlmResilience.Testing;

/// <summary>A stream that only ever sends SSE comments: the connection looks alive, no token ever comes.</summary>
internal sealed class StreamKeepAliveOnlyBehavior(TimeSpan interval)
    : FakeBehavior("StreamKeepAliveOnly", $"StreamKeepAliveOnly({interval.TotalMilliseconds:0} ms)")
{
    internal override async Task ExecuteAsync(FakeRequestContext context)
    {
        var stream = await ChatStream.StartAsync(context, context.Request.IncludeUsage).ConfigureAwait(false);
        while (true)
        {
            await context.DelayAsync(interval).ConfigureAwait(false);
            await stream.WriteCommentAsync("keep-alive").ConfigureAwait(false);
        }
    }
}
