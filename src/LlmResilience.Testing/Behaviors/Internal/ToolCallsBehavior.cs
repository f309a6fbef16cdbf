namespace LlmResilience.Testing;

/// <summary>
/// Success that ends in tool calls (<c>"finish_reason":"tool_calls"</c>): a JSON completion whose message has
/// <c>"content":null</c> and <c>"tool_calls"</c>, or, when the request streams, the calls in fragments as OpenAI sends them
/// (the first fragment of each call with its index, id, type, name and empty arguments, then the arguments in pieces).
/// </summary>
internal sealed class ToolCallsBehavior(FakeToolCall[] calls)
    : FakeBehavior("ToolCalls", $"ToolCalls({string.Join(", ", calls.Select(c => c.Name))})")
{
    internal override async Task ExecuteAsync(FakeRequestContext context)
    {
        // Ids are fixed per answer: a retried attempt gets new ones, as a real model's second answer would.
        var answered = calls.Select(c => (Id: c.Id ?? Ids.NewToolCallId(), c.Name, c.ArgumentsJson)).ToArray();
        if (!context.Request.IsStreaming)
        {
            var body = ChatCompletionJson.ToolCallCompletion(context.NewIdentity(), answered, context.UsageFor(string.Empty));
            await context.WriteResponseAsync(new CannedResponse(200, FakeLlmServerConstants.JsonContentType, body)).ConfigureAwait(false);
            return;
        }

        var stream = await ChatStream.StartAsync(context, context.Request.IncludeUsage).ConfigureAwait(false);
        for (var i = 0; i < answered.Length; i++)
        {
            var (id, name, arguments) = answered[i];
            await stream.WriteToolCallAsync(i, id, name, string.Empty).ConfigureAwait(false);
            var half = arguments.Length / 2;
            foreach (var piece in new[] { arguments[..half], arguments[half..] })
            {
                if (piece.Length > 0)
                {
                    await stream.WriteToolCallAsync(i, null, null, piece).ConfigureAwait(false);
                }
            }
        }

        await stream.WriteFinishAsync("tool_calls").ConfigureAwait(false);
        await stream.WriteDoneAsync().ConfigureAwait(false);
    }
}
