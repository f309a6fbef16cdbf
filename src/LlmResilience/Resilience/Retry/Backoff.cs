namespace LlmResilience;

/// <summary>Exponential backoff with "equal jitter": the delay is drawn between half and all of the capped exponential step.</summary>
/// <remarks>
/// Equal jitter keeps a floor under every wait (a retry storm against a struggling server never collapses to zero
/// delay, as full jitter can) while still spreading clients that failed together.
/// </remarks>
internal static class Backoff
{
    /// <param name="retryIndex">0 for the first retry.</param>
    /// <param name="options">BaseDelay, MaxDelay and UseJitter are read.</param>
    /// <param name="random">Returns a value in [0, 1).</param>
    public static TimeSpan Compute(int retryIndex, LlmResilienceOptions options, Func<double> random)
    {
        var maxTicks = (double)options.MaxDelay.Ticks;
        var ticks = Math.Min(options.BaseDelay.Ticks * Math.Pow(2, Math.Min(retryIndex, 62)), maxTicks);
        if (options.UseJitter)
        {
            ticks *= 0.5 + (0.5 * Math.Clamp(random(), 0, 1));
        }

        return TimeSpan.FromTicks((long)ticks);
    }
}
