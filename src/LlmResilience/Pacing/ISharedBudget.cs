namespace LlmResilience;

/// <summary>
/// A fleet's budget for an endpoint: its requests and tokens per minute, taken by every instance from one pair of
/// buckets (LlmResilience.Redis keeps them in Redis and takes from both in one round trip).
/// </summary>
/// <remarks>
/// Must answer within a short timeout and never throw: <see langword="null"/> means "not available now", and the
/// pacer then admits the call on its local buckets.
/// </remarks>
internal interface ISharedBudget
{
    /// <summary>
    /// Takes one request and <paramref name="tokens"/> tokens for <paramref name="endpointKey"/>, from buckets shaped like
    /// <paramref name="requests"/> and <paramref name="tokensBucket"/> (either may be absent). Returns
    /// <see cref="TimeSpan.Zero"/> when taken, the wait until there is room when not (nothing is taken), or
    /// <see langword="null"/> when the fleet's budget cannot be reached.
    /// </summary>
    ValueTask<TimeSpan?> TryTakeAsync(string endpointKey, SmoothTokenBucket? requests, SmoothTokenBucket? tokensBucket, int tokens, CancellationToken cancellationToken);

    /// <summary>
    /// After an answer's <c>usage</c>: charges <paramref name="tokens"/> more to the fleet's tokens bucket of
    /// <paramref name="endpointKey"/> (shaped like <paramref name="tokensBucket"/>), or gives them back when negative.
    /// Fire and forget: queued, never awaited, never throws; lost when the fleet's budget cannot be reached.
    /// </summary>
    void Correct(string endpointKey, SmoothTokenBucket tokensBucket, int tokens);
}
