using LlmResilience;

namespace Microsoft.Extensions.AI;

/// <summary>
/// Exposes an <see cref="IChatCompletionsClient"/> as Microsoft.Extensions.AI's <see cref="IChatClient"/>, so
/// <c>ChatClientBuilder</c> pipelines (function invocation, caching, OpenTelemetry) and code written against
/// <see cref="IChatClient"/> run over the LlmResilience pipeline.
/// </summary>
public static class LlmResilienceChatClientExtensions
{
    /// <summary>Gets an <see cref="IChatClient"/> that sends every call through <paramref name="client"/>.</summary>
    /// <param name="client">The typed client; its retries, timeouts and errors apply unchanged.</param>
    /// <returns>
    /// An <see cref="IChatClient"/> over <paramref name="client"/>. Failures surface as <see cref="LlmException"/> with its
    /// <see cref="LlmException.Kind"/>, not wrapped. Disposing it does not dispose <paramref name="client"/>, which stays
    /// owned by whoever created it (the container, or you after <see cref="ChatCompletionsClient.Create"/>).
    /// <c>GetService</c> returns <see cref="ChatClientMetadata"/> and <paramref name="client"/>.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> is <see langword="null"/>.</exception>
    public static IChatClient AsIChatClient(this IChatCompletionsClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new LlmChatClient(client);
    }
}
