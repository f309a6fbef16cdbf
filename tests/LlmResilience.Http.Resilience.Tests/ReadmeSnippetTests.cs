using System.Net;
using System.Text;
using LlmResilience.Testing;
using Microsoft.Extensions.DependencyInjection; // AddStandardResilienceHandler, ConfigureForLlm

namespace LlmResilience.Http.Resilience.Tests;

/// <summary>Compiles and runs the README's ConfigureForLlm snippet (QuickStartTests in LlmResilience.Tests checks the two agree).</summary>
public sealed class ReadmeSnippetTests
{
    [Fact]
    public async Task ReadmeSnippet_AgainstTheFakeServer_RetriesAResetAndAnswers()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders());
        var services = new ServiceCollection();

        services.AddHttpClient("llm", c => c.BaseAddress = new Uri("https://api.openai.com/v1/"))
            .AddStandardResilienceHandler()
            .ConfigureForLlm(o => o.MaxRetryAfter = TimeSpan.FromSeconds(60));

        await using var provider = services.BuildServiceProvider();
        // An absolute URI wins over the snippet's BaseAddress: the test talks to the fake server, not to OpenAI.
        using var response = await provider.GetRequiredService<IHttpClientFactory>().CreateClient("llm")
            .PostAsync(new Uri(server.BaseAddress, "chat/completions"), new StringContent("""{"model":"m","messages":[]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Requests.Count);
    }
}
