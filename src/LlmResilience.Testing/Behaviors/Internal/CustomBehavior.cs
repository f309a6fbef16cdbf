using Microsoft.AspNetCore.Http;

namespace LlmResilience.Testing;

/// <summary>A user's handler writes the response.</summary>
internal sealed class CustomBehavior(string name, Func<HttpContext, CancellationToken, Task> handler) : FakeBehavior(name)
{
    internal override Task ExecuteAsync(FakeRequestContext context)
    {
        context.SetOpenAiHeaders();
        return handler(context.HttpContext, context.CancellationToken);
    }
}
