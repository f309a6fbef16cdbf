namespace LlmResilience;

/// <summary>
/// Before a call is sent: with context windows configured, an endpoint whose window the request clearly exceeds (its
/// token estimate above 1.2 times the window: an estimate is only an estimate, so a request near the limit is sent and
/// the server decides) is not chosen, and a call no endpoint can hold fails at once with ContextLengthExceeded.
/// </summary>
internal static class ContextPreflight
{
    /// <summary>How far over a window an estimate must be before the endpoint is skipped.</summary>
    public const double Margin = 1.2;

    /// <summary>Whether the call clearly does not fit <paramref name="endpoint"/>'s window (false when it has none).</summary>
    public static bool ClearlyExceeds(LlmCall call, EndpointTarget endpoint) =>
        endpoint.ContextWindowTokens is { } window && TokenEstimate.Of(call) > window * Margin;

    /// <summary>The failure for a call that fits none of <paramref name="endpoints"/>, or <see langword="null"/> when one may hold it.</summary>
    public static LlmException? Refuse(LlmCall call, IReadOnlyList<EndpointTarget> endpoints)
    {
        var largest = 0;
        foreach (var endpoint in endpoints)
        {
            if (endpoint.ContextWindowTokens is not { } window)
            {
                return null; // unknown: the server decides
            }

            largest = Math.Max(largest, window);
        }

        var estimate = TokenEstimate.Of(call);
        if (estimate <= largest * Margin)
        {
            return null;
        }

        call.StopReason = CallStopReason.TooLargeForEveryWindow;
        return new LlmException(LlmFailureKind.ContextLengthExceeded,
            $"The request needs about {estimate} tokens (an estimate: the request's size plus the output it asks for), more than the largest context window configured ({largest} tokens, on {string.Join(", ", endpoints.Where(e => e.ContextWindowTokens == largest).Select(static e => e.Name))}) by about {estimate - largest}. No request was sent. Shorten or summarize the conversation, lower MaxTokens / MaxCompletionTokens, or add an endpoint with a larger ContextWindowTokens.");
    }
}
