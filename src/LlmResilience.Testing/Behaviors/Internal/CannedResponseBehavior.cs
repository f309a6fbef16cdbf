namespace LlmResilience.Testing;

/// <summary>A complete response built per request: statuses, API errors, proxy pages, malformed JSON.</summary>
internal sealed class CannedResponseBehavior(string name, string? description, Func<FakeRequestContext, CannedResponse> respond)
    : FakeBehavior(name, description)
{
    internal override Task ExecuteAsync(FakeRequestContext context) => context.WriteResponseAsync(respond(context));
}
