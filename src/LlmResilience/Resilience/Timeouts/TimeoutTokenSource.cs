namespace LlmResilience;

/// <summary>
/// A timeout as a token: a cancellation source that cancels when its time runs out on the given clock, or at once when
/// the outer token does. Two layers of the pipeline are one each: the call's total deadline (<see cref="LlmCall.StartDeadline"/>,
/// linked to the caller's token) and each attempt's timeout (linked to the deadline's token). Whoever starts one owns
/// it and disposes it at its end, so attempts running at once (hedging) never share one.
/// </summary>
/// <remarks>
/// The attempt timeout is ours rather than Polly's timeout strategy: the attempt already catches whatever its send throws
/// and writes its record, so the strategy's extra layer (a context token swap, a pooled source, an outcome rewrite and
/// an async frame per attempt) did nothing here that this does not; it measured about 2 µs of CPU per call at 32 callers.
/// </remarks>
internal sealed class TimeoutTokenSource : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _outer;
    private readonly CancellationTokenRegistration _outerLink;

    /// <param name="timeout">The time (validated positive and finite at start-up).</param>
    /// <param name="time">The clock.</param>
    /// <param name="outer">The enclosing token: cancelling it cancels this one.</param>
    public TimeoutTokenSource(TimeSpan timeout, TimeProvider time, CancellationToken outer)
    {
        _outer = outer;
        _source = new CancellationTokenSource(timeout, time);
        if (outer.CanBeCanceled)
        {
            _outerLink = outer.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), _source);
        }
    }

    /// <summary>Gets the token that the timeout (or the outer token) cancels.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Gets whether this timeout ran out (as opposed to the outer token being cancelled).</summary>
    public bool Expired => _source.IsCancellationRequested && !_outer.IsCancellationRequested;

    public void Dispose()
    {
        // The link first: disposing it waits for a cancel of the outer token in flight, so that never touches a disposed source.
        _outerLink.Dispose();
        _source.Dispose();
    }
}
