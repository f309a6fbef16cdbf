using System.Runtime.CompilerServices;
using LlmResilience.Chat;
using Microsoft.Extensions.AI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace LlmResilience;

/// <summary>
/// The <see cref="IChatClient"/> over an <see cref="IChatCompletionsClient"/>: maps M.E.AI's messages and options to a
/// <see cref="ChatCompletionRequest"/> (<see cref="ChatRequestMapping"/>) and the answer back (<see cref="ChatResponseMapping"/>).
/// </summary>
/// <remarks>
/// Nothing here catches: an <see cref="LlmException"/> reaches the caller as the typed client threw it, with its kind,
/// status, request id and attempts, and cancellation stays an <see cref="OperationCanceledException"/>.
/// </remarks>
internal sealed class LlmChatClient : IChatClient
{
    // The API the client speaks, as OpenTelemetry's gen_ai.provider.name and M.E.AI's own OpenAI adapter name it.
    internal const string ProviderName = "openai";

    private readonly IChatCompletionsClient _client;
    private readonly ChatClientMetadata _metadata;

    public LlmChatClient(IChatCompletionsClient client)
    {
        _client = client;
        _metadata = client is ChatCompletionsClient typed
            ? new ChatClientMetadata(ProviderName, WithoutUserInfo(typed.BaseAddress), typed.DefaultModel)
            : new ChatClientMetadata(ProviderName);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = ChatRequestMapping.ToRequest(this, messages, options);
        var completion = await _client.CompleteAsync(request, cancellationToken).ConfigureAwait(false);
        return ChatResponseMapping.ToResponse(completion);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<AIChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Mapping errors (an ArgumentException) surface on the first MoveNextAsync, before anything is sent.
        var request = ChatRequestMapping.ToRequest(this, messages, options);
        var stream = new ChatStreamMapping();
        await foreach (var chunk in _client.StreamAsync(request, cancellationToken).ConfigureAwait(false))
        {
            if (stream.ToUpdate(chunk) is { } update)
            {
                yield return update;
            }
        }

        if (stream.ToolCallsUpdate() is { } toolCalls)
        {
            yield return toolCalls;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? _metadata
            : serviceType.IsInstanceOfType(_client) ? _client
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    // Metadata is handed to telemetry and logs: a user name and password in the base address must not travel with it.
    private static Uri WithoutUserInfo(Uri uri) =>
        string.IsNullOrEmpty(uri.UserInfo) ? uri : new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri;

    // The typed client belongs to whoever created it (the container, or the caller of ChatCompletionsClient.Create).
    public void Dispose()
    {
    }
}
