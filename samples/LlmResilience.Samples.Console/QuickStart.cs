using LlmResilience;                            // IChatCompletionsClient, LlmClientOptions, LlmException
using LlmResilience.Chat;                       // ChatCompletionRequest, ChatMessage and the other request/response models
using Microsoft.Extensions.DependencyInjection; // AddChatCompletionsClient

namespace LlmResilience.Samples.Console;

/// <summary>
/// The README's quick start, compiled so it cannot rot. Every line of the README's block appears here in order;
/// QuickStartTests fails when the two drift apart. (Program.cs runs the same calls against the fake server.)
/// </summary>
internal static class QuickStart
{
    public static async Task RunAsync(IServiceCollection services)
    {
        services.AddChatCompletionsClient(options =>
        {
            options.BaseAddress = new Uri("https://api.openai.com/v1/"); // any OpenAI-compatible endpoint
            options.Model = "gpt-4o-mini";                               // ApiKey defaults to OPENAI_API_KEY
        });
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IChatCompletionsClient>();
        var answer = await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("Hello!")]));
        await foreach (var chunk in client.StreamAsync(new ChatCompletionRequest([ChatMessage.User("Tell me a story.")])))
            System.Console.Write(chunk.ContentDelta);
        System.Console.WriteLine(answer.Content);
    }
}
