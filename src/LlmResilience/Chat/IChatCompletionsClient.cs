using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>A client for OpenAI-compatible Chat Completions (<c>POST {BaseAddress}chat/completions</c>), resilient by construction.</summary>
public interface IChatCompletionsClient
{
    /// <summary>Sends a chat completion request and returns the whole answer.</summary>
    /// <param name="request">The conversation and the sampling settings; <see cref="ChatCompletionRequest.Model"/> falls back to <see cref="LlmClientOptions.Model"/>.</param>
    /// <param name="cancellationToken">Cancels the call at any stage; surfaces as <see cref="OperationCanceledException"/>.</param>
    /// <returns>The completion, with <see cref="ChatCompletion.RequestId"/> set from <c>x-request-id</c>.</returns>
    /// <exception cref="ArgumentException">The request cannot be valid (no messages, or no model anywhere); nothing was sent.</exception>
    /// <exception cref="LlmException">The call failed after the pipeline's retries; <see cref="LlmException.Kind"/> says why.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The common call takes no options; the overload with them takes a CancellationToken explicitly.")]
    Task<ChatCompletion> CompleteAsync(ChatCompletionRequest request, CancellationToken cancellationToken = default);

    /// <summary>Sends a chat completion request and streams the answer as it is generated (server-sent events).</summary>
    /// <param name="request">The conversation and the sampling settings; <c>stream</c> is set for you.</param>
    /// <param name="cancellationToken">Cancels the stream at any stage; surfaces as <see cref="OperationCanceledException"/>.</param>
    /// <returns>The chunks in order, ending after <c>[DONE]</c>.</returns>
    /// <exception cref="ArgumentException">The request cannot be valid; thrown before anything is sent.</exception>
    /// <exception cref="LlmException">
    /// The call failed. Failures before the first chunk are retried by the pipeline; after it, the stream is never
    /// retried (that would duplicate output) and fails with <see cref="LlmFailureKind.StreamInterrupted"/> and the text
    /// received so far in <see cref="LlmException.PartialContent"/>.
    /// </exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The common call takes no options; the overload with them takes a CancellationToken explicitly.")]
    IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ChatCompletionRequest request, CancellationToken cancellationToken = default);

    /// <summary>Sends a chat completion request with per-call control (headers, timeouts, retries) and returns the whole answer.</summary>
    /// <param name="request">The conversation and the sampling settings.</param>
    /// <param name="options">Extra headers and this call's timeouts and retries.</param>
    /// <param name="cancellationToken">Cancels the call at any stage.</param>
    /// <returns>The completion.</returns>
    /// <exception cref="ArgumentException">The request or the options cannot be valid; nothing was sent.</exception>
    /// <exception cref="LlmException">The call failed after the pipeline's retries.</exception>
    Task<ChatCompletion> CompleteAsync(ChatCompletionRequest request, LlmRequestOptions options, CancellationToken cancellationToken);

    /// <summary>Streams the answer with per-call control (headers, timeouts, retries).</summary>
    /// <param name="request">The conversation and the sampling settings.</param>
    /// <param name="options">Extra headers and this call's timeouts and retries.</param>
    /// <param name="cancellationToken">Cancels the stream at any stage.</param>
    /// <returns>The chunks in order, each with the answer's <see cref="ChatCompletionChunk.RequestId"/>.</returns>
    /// <exception cref="ArgumentException">The request or the options cannot be valid; thrown before anything is sent.</exception>
    /// <exception cref="LlmException">The call failed.</exception>
    IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ChatCompletionRequest request, LlmRequestOptions options, CancellationToken cancellationToken);
}
