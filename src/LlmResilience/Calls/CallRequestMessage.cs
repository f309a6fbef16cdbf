namespace LlmResilience;

/// <summary>
/// A request that carries its <see cref="LlmCall"/> from the typed client (or the health probe) through
/// <see cref="HttpClient"/> and any handlers above it to the pipeline, which finds it by type. The request's own
/// <see cref="HttpRequestMessage.Options"/> stay the caller's: nothing of ours is added to them (an options entry
/// measured about 240 bytes and three string hashes per call).
/// </summary>
internal sealed class CallRequestMessage(HttpMethod method, Uri requestUri, LlmCall call) : HttpRequestMessage(method, requestUri)
{
    /// <summary>Gets the call this request starts.</summary>
    public LlmCall Call { get; } = call;
}
