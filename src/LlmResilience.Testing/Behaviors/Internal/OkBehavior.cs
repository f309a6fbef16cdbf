namespace LlmResilience.Testing;

/// <summary>Success: a JSON completion, or the same content as an SSE stream when the request asked to stream.</summary>
internal sealed class OkBehavior(string? content) : FakeBehavior("Ok", content is null ? "Ok" : $"Ok(\"{content}\")")
{
    internal override Task ExecuteAsync(FakeRequestContext context)
    {
        var text = content ?? context.Options.DefaultContent;
        if (context.Request.IsStreaming)
        {
            return ChatStream.WriteCompletionAsync(context, ContentPieces.Split(text), context.Options.StreamInterval, context.Request.IncludeUsage);
        }

        var body = ChatCompletionJson.Completion(context.NewIdentity(), text, context.UsageFor(text));
        return context.WriteResponseAsync(new CannedResponse(200, FakeLlmServerConstants.JsonContentType, body));
    }
}
