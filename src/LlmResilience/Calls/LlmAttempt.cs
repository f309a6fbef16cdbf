namespace LlmResilience;

/// <summary>
/// One attempt of a call: where it went, when, what came back and why it ended. Written only by the attempt itself
/// (and, once it has ended, by the strategy that decides about it), never shared between attempts, so attempts may run
/// at once (hedging) without locks.
/// </summary>
internal sealed class LlmAttempt
{
    public LlmAttempt(int number, EndpointTarget endpoint, long startTimestamp)
    {
        Number = number;
        Endpoint = endpoint;
        StartTimestamp = startTimestamp;
    }

    /// <summary>1 for the first attempt of a call.</summary>
    public int Number { get; }

    /// <summary>Where the attempt was sent.</summary>
    public EndpointTarget Endpoint { get; }

    public long StartTimestamp { get; }

    /// <summary>The model the attempt asked for, when the call knows it (the typed client's); <see langword="null"/> under another client.</summary>
    public string? Model { get; init; }

    /// <summary>The address the attempt was sent to (set when its message is built).</summary>
    public Uri? RequestUri { get; set; }

    /// <summary>From sending to the end of the attempt (headers and body, or a stream's first event).</summary>
    public TimeSpan Duration { get; private set; }

    /// <summary>The response's status, when one arrived.</summary>
    public int? StatusCode { get; private set; }

    /// <summary>The server's <c>x-request-id</c>, when one arrived.</summary>
    public string? RequestId { get; private set; }

    /// <summary>The <c>x-ratelimit-*</c> headers of the response, when it had any.</summary>
    public RateLimitHeaders? RateLimits { get; private set; }

    /// <summary>What went wrong; <see langword="null"/> while running and after a success.</summary>
    public AttemptFailure? Failure { get; private set; }

    public AttemptEnd End { get; private set; }

    /// <summary>What the retry strategy decided after this attempt failed.</summary>
    public RetryDecision? Decision { get; set; }

    /// <summary>Whether the attempt failed before any response headers arrived (the request may never have reached the model).</summary>
    public bool FailedBeforeHeaders => StatusCode is null && End is not (AttemptEnd.Running or AttemptEnd.Succeeded);

    public void OnResponse(HttpResponseMessage response)
    {
        StatusCode = (int)response.StatusCode;
        RequestId = ResponseHeaders.RequestIdOf(response);
        RateLimits = RateLimitHeaders.TryRead(response.Headers);
    }

    public void Succeed(TimeProvider time)
    {
        Duration = time.GetElapsedTime(StartTimestamp);
        End = AttemptEnd.Succeeded;
    }

    public void Fail(AttemptFailure failure, TimeProvider time)
    {
        Duration = time.GetElapsedTime(StartTimestamp);
        Failure = failure;
        End = AttemptEnd.Failed;
    }

    /// <summary>Recorded by the timeout strategy that cancelled this attempt (the attempt itself saw only a cancellation).</summary>
    public void TimedOut(AttemptEnd end, AttemptFailure failure)
    {
        End = end;
        Failure = failure;
    }

    public void Cancelled() => End = AttemptEnd.Cancelled;

    /// <summary>Whether another leg of a hedged attempt answered first and this one was cancelled.</summary>
    public bool LostHedge { get; private set; }

    /// <summary>Marks the attempt as the loser of a hedge: it ends Cancelled, which no endpoint state or breaker counts.</summary>
    public void LoseHedge()
    {
        LostHedge = true;
        if (End is not (AttemptEnd.Running or AttemptEnd.Succeeded))
        {
            End = AttemptEnd.Cancelled;
        }
    }

    public override string ToString() =>
        $"Attempt {Number} to {Endpoint.Name}: {End}{(StatusCode is { } status ? $", HTTP {status}" : string.Empty)}{(Failure is { } failure ? $", {failure.Kind}" : string.Empty)}, {Duration.TotalMilliseconds:0} ms";
}

/// <summary>The retry strategy's verdict on a failed attempt.</summary>
/// <param name="Retry">Whether another attempt follows.</param>
/// <param name="Delay">The wait before it.</param>
/// <param name="Source">Where the wait came from.</param>
/// <param name="Stop">When not retried: why.</param>
internal readonly record struct RetryDecision(bool Retry, TimeSpan Delay, RetryDelaySource Source, CallStopReason Stop)
{
    public static RetryDecision StopWith(CallStopReason reason) => new(false, TimeSpan.Zero, RetryDelaySource.None, reason);
}

/// <summary>Where a retry's wait came from.</summary>
internal enum RetryDelaySource
{
    None = 0,
    ServerHint,
    Backoff,
    Immediate,

    /// <summary>Another endpoint takes the next attempt: no wait.</summary>
    Failover,

    /// <summary>No endpoint was available: the wait until the first comes back.</summary>
    EndpointCooldown,
}

/// <summary>Reads the few response headers every reporter needs.</summary>
internal static class ResponseHeaders
{
    public static string? RequestIdOf(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("x-request-id", out var values) ? values.ToString() : null;

    public static string? ServerOf(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("server", out var values) ? values.ToString() : null;
}
