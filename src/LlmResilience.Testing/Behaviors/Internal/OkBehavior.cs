namespace LlmResilience.Testing;

/// <summary>
/// Success: a JSON completion, or the same content as an SSE stream when the request asked to stream; a <c>GET</c> of
/// <c>…/models</c> (the cheap probe health checks and llm-doctor send) gets the model list instead.
/// </summary>
internal sealed class OkBehavior(string? content) : FakeBehavior("Ok", content is null ? "Ok" : $"Ok(\"{content}\")")
{
    internal override Task ExecuteAsync(FakeRequestContext context)
    {
        if (context.IsModelList)
        {
            var list = ChatCompletionJson.ModelList(context.Options.Model, context.Options.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
            return context.WriteResponseAsync(new CannedResponse(200, FakeLlmServerConstants.JsonContentType, list));
        }

        var text = content ?? context.Options.DefaultContent;
        if (context.Request.IsStreaming)
        {
            return ChatStream.WriteCompletionAsync(context, ContentPieces.Split(text), context.Options.StreamInterval, context.Request.IncludeUsage);
        }

        var body = ChatCompletionJson.Completion(context.NewIdentity(), text, context.UsageFor(text));
        return context.WriteResponseAsync(new CannedResponse(200, FakeLlmServerConstants.JsonContentType, body));
    }
}
