using System.Globalization;

namespace LlmResilience;

/// <summary>
/// One endpoint's budget: its requests and tokens per minute (configured on the endpoint, or learned from the
/// <c>x-ratelimit-limit-*</c> headers when none is configured), paced by <see cref="SmoothTokenBucket"/>s, and what
/// the provider said is left (<c>x-ratelimit-remaining-*</c> at zero: exhausted until <c>x-ratelimit-reset-*</c>).
/// </summary>
internal sealed class EndpointPacer
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly bool _requestsConfigured;
    private readonly bool _tokensConfigured;
    private DateTimeOffset _requestsExhaustedUntil;
    private DateTimeOffset _tokensExhaustedUntil;
    private readonly ISharedBudget? _shared;
    private readonly string? _key;

    public EndpointPacer(int? requestsPerMinute, int? tokensPerMinute, TimeProvider time, ISharedBudget? shared = null, string? key = null)
    {
        _time = time;
        _shared = key is null ? null : shared;
        _key = key;
        if (requestsPerMinute is { } rpm)
        {
            Requests = Bucket(rpm, time);
            _requestsConfigured = true;
        }

        if (tokensPerMinute is { } tpm)
        {
            Tokens = Bucket(tpm, time);
            _tokensConfigured = true;
        }
    }

    /// <summary>The requests bucket, when a limit is configured or learned.</summary>
    public SmoothTokenBucket? Requests { get; private set; }

    /// <summary>The tokens bucket, when a limit is configured or learned; a call's cost is then estimated.</summary>
    public SmoothTokenBucket? Tokens { get; private set; }

    /// <summary>Where the limits came from, for messages.</summary>
    public string Describe() =>
        string.Join(" and ", new[]
        {
            Requests is { } r ? $"{r.PerSecond * 60 / Headroom:0} requests per minute ({(_requestsConfigured ? "configured" : "learned from x-ratelimit-limit-requests")})" : null,
            Tokens is { } t ? $"{t.PerSecond * 60 / Headroom:0} tokens per minute ({(_tokensConfigured ? "configured" : "learned from x-ratelimit-limit-tokens")})" : null,
        }.Where(static s => s is not null)) is { Length: > 0 } text ? text : "the provider's x-ratelimit-remaining headers";

    /// <summary>Until when the provider said the endpoint's requests or tokens are used up; <see langword="null"/> when they are not.</summary>
    public DateTimeOffset? ExhaustedUntil(DateTimeOffset now)
    {
        lock (_lock)
        {
            var until = _requestsExhaustedUntil > _tokensExhaustedUntil ? _requestsExhaustedUntil : _tokensExhaustedUntil;
            return until > now ? until : null;
        }
    }

    /// <summary>Whether a call costing <paramref name="tokens"/> fits now, without waiting.</summary>
    public bool HasRoomFor(int tokens) =>
        ExhaustedUntil(_time.GetUtcNow()) is null && (Requests?.HasRoomFor(1) ?? true) && (Tokens?.HasRoomFor(tokens) ?? true);

    /// <summary>How long a call costing <paramref name="tokens"/> would wait for budget.</summary>
    public TimeSpan EstimatedWait(int tokens)
    {
        var now = _time.GetUtcNow();
        var wait = ExhaustedUntil(now) is { } until ? until - now : TimeSpan.Zero;
        if (Requests?.EstimatedWait(1) is { } requests && requests > wait)
        {
            wait = requests;
        }

        if (Tokens?.EstimatedWait(tokens) is { } tokenWait && tokenWait > wait)
        {
            wait = tokenWait;
        }

        return wait;
    }

    /// <summary>
    /// Admits a call costing <paramref name="tokens"/>: at once when there is budget and no one waits; otherwise in
    /// arrival order once there is, unless that is further off than <paramref name="maxWait"/> (then the wait it would
    /// take, and nothing is taken). <c>Shared</c>: the call was taken from the fleet's budget, not the local buckets.
    /// </summary>
    public async ValueTask<(TimeSpan? Wait, bool Shared)> AdmitAsync(int tokens, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_shared is not null && (Requests is not null || Tokens is not null))
        {
            // The provider said the budget is used up: wait for its reset, then take from the fleet's budget all the same.
            // The local buckets stay full for when Redis is out; taken from now, they would let every instance that saw
            // the zero burst past the fleet's pace at once (a fleet test found 429s from exactly that).
            if (ExhaustedUntil(now) is { } reset)
            {
                if (reset - now > maxWait)
                {
                    return (reset - now, false);
                }

                await Task.Delay(reset - now, _time, cancellationToken).ConfigureAwait(false);
                maxWait -= reset - now;
                now = _time.GetUtcNow();
            }

            if (await AdmitSharedAsync(tokens, maxWait, cancellationToken).ConfigureAwait(false) is { } shared)
            {
                return shared == TimeSpan.Zero ? (null, true) : (shared, false);
            }
        }

        if (ExhaustedUntil(now) is null && TryTakeNow(tokens))
        {
            return (null, false);
        }

        var wait = EstimatedWait(tokens);
        if (wait > maxWait)
        {
            return (wait, false);
        }

        if (ExhaustedUntil(now) is { } until)
        {
            await Task.Delay(until - now, _time, cancellationToken).ConfigureAwait(false);
        }

        if (Requests is { } requests)
        {
            await requests.TakeAsync(1, cancellationToken).ConfigureAwait(false);
        }

        if (Tokens is { } bucket)
        {
            await bucket.TakeAsync(tokens, cancellationToken).ConfigureAwait(false);
        }

        return (null, false);
    }

    /// <summary>
    /// Admits the call on the fleet's buckets: <see cref="TimeSpan.Zero"/> once taken (after waiting for room, within
    /// <paramref name="maxWait"/>), the wait when room is further off, or <see langword="null"/> when the fleet's budget
    /// cannot be reached (the local buckets then decide). The local buckets are left alone, full for such a fallback.
    /// </summary>
    private async ValueTask<TimeSpan?> AdmitSharedAsync(int tokens, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var waited = TimeSpan.Zero;
        while (true)
        {
            if (await _shared!.TryTakeAsync(_key!, Requests, Tokens, tokens, cancellationToken).ConfigureAwait(false) is not { } wait)
            {
                return null;
            }

            if (wait == TimeSpan.Zero)
            {
                return TimeSpan.Zero;
            }

            if (waited + wait > maxWait)
            {
                return wait;
            }

            // Every instance waits for its own estimate and asks again: no queue across processes, none starves.
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            waited += wait;
        }
    }

    /// <summary>
    /// After the answer's <c>usage</c>: charges what the estimate missed, or gives back what it overshot, to the buckets
    /// the call was taken from (the fleet's when <paramref name="shared"/>).
    /// </summary>
    public void Correct(int estimated, int actual, bool shared)
    {
        if (Tokens is not { } tokens || actual == estimated)
        {
            return;
        }

        if (shared && _shared is not null)
        {
            _shared.Correct(_key!, tokens, actual - estimated);
        }
        else
        {
            tokens.Correct(actual - estimated);
        }
    }

    /// <summary>Learns from the <c>x-ratelimit-*</c> headers of an answer (a success or a 429).</summary>
    public void Learn(RateLimitHeaders headers, DateTimeOffset now)
    {
        if (!_requestsConfigured && Requests is null && PositiveInt(headers.LimitRequests) is { } rpm)
        {
            Requests = Bucket(rpm, _time);
        }

        if (!_tokensConfigured && Tokens is null && PositiveInt(headers.LimitTokens) is { } tpm)
        {
            Tokens = Bucket(tpm, _time);
        }

        var requestsReset = IsZero(headers.RemainingRequests) ? Reset(headers.ResetRequests) : null;
        var tokensReset = IsZero(headers.RemainingTokens) ? Reset(headers.ResetTokens) : null;
        if (requestsReset is null && tokensReset is null)
        {
            return;
        }

        lock (_lock)
        {
            if (requestsReset is { } r && now + r > _requestsExhaustedUntil)
            {
                _requestsExhaustedUntil = now + r;
            }

            if (tokensReset is { } t && now + t > _tokensExhaustedUntil)
            {
                _tokensExhaustedUntil = now + t;
            }
        }
    }

    /// <summary>Whether headers carry anything a pacer would act on (so that none is created for nothing).</summary>
    public static bool IsWorthLearning(RateLimitHeaders headers) =>
        PositiveInt(headers.LimitRequests) is not null || PositiveInt(headers.LimitTokens) is not null
        || IsZero(headers.RemainingRequests) || IsZero(headers.RemainingTokens);

    private bool TryTakeNow(int tokens)
    {
        if (Requests is { } requests && !requests.TryTake(1))
        {
            return false;
        }

        if (Tokens is { } bucket && !bucket.TryTake(tokens))
        {
            Requests?.Correct(-1); // give the request back
            return false;
        }

        return true;
    }

    /// <summary>
    /// The share of a limit the buckets refill at: 2 % below it, so that the client stays behind the provider's own
    /// bucket rather than level with it (two clocks that meet at the edge would trade 429s on rounding alone).
    /// </summary>
    public const double Headroom = 0.98;

    // A minute's budget, held a second's share at a time: providers enforce per-minute limits over short windows.
    private static SmoothTokenBucket Bucket(int perMinute, TimeProvider time) => new(Math.Max(1, perMinute / 60.0), perMinute / 60.0 * Headroom, time);

    private static int? PositiveInt(string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0 ? number : null;

    private static bool IsZero(string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number <= 0;

    private static TimeSpan? Reset(string? value) =>
        value is not null && ServerRetryHints.TryParseGoDuration(value, out var duration) ? duration : null;
}
