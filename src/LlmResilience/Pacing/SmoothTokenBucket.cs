using System.Diagnostics.CodeAnalysis;
using System.Threading.RateLimiting;

namespace LlmResilience;

/// <summary>
/// A token bucket on <see cref="TimeProvider"/> that refills continuously (a minute's budget arrives spread over the
/// minute, not in one burst) and holds only a second's share, as providers enforce a per-minute limit over short
/// windows. Waiters are served first come, first served; a caller that finds no one waiting and enough tokens goes
/// at once. Corrections may take the bucket below zero (a debt the refill pays back) or give tokens back.
/// </summary>
/// <remarks>
/// A <see cref="RateLimiter"/> (System.Threading.RateLimiting), so it composes with the rest of that API; written here
/// rather than configured from <see cref="TokenBucketRateLimiter"/> because pacing needs an injectable clock, refunds
/// after the answer's <c>usage</c>, and a wait estimate before queueing.
/// </remarks>
internal sealed class SmoothTokenBucket : RateLimiter
{
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _turnstile = new(1, 1);
    private readonly TimeProvider _time;
    private double _tokens;
    private long _refilledAt;
    private int _waiting;
    private double _queuedDemand;
    private long _idleSince;

    public SmoothTokenBucket(double capacity, double perSecond, TimeProvider time)
    {
        Capacity = capacity;
        PerSecond = perSecond;
        _time = time;
        _tokens = capacity;
        _refilledAt = time.GetTimestamp();
        _idleSince = _refilledAt;
    }

    /// <summary>The most tokens the bucket holds (a second's share of the limit, at least 1).</summary>
    public double Capacity { get; }

    /// <summary>How fast it refills.</summary>
    public double PerSecond { get; }

    /// <summary>The tokens available now (negative while a correction's debt is being paid back).</summary>
    public double Available
    {
        get
        {
            lock (_lock)
            {
                Refill();
                return _tokens;
            }
        }
    }

    /// <summary>Whether <paramref name="cost"/> could be taken now without waiting behind anyone.</summary>
    public bool HasRoomFor(double cost)
    {
        lock (_lock)
        {
            Refill();
            return _waiting == 0 && _tokens >= Clamp(cost);
        }
    }

    /// <summary>How long a new caller asking for <paramref name="cost"/> would wait, behind the callers already waiting.</summary>
    public TimeSpan EstimatedWait(double cost)
    {
        lock (_lock)
        {
            Refill();
            var deficit = _queuedDemand + Clamp(cost) - _tokens;
            return deficit <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(deficit / PerSecond);
        }
    }

    /// <summary>Takes <paramref name="cost"/> now if no one is waiting and there is room.</summary>
    public bool TryTake(double cost)
    {
        lock (_lock)
        {
            Refill();
            cost = Clamp(cost);
            if (_waiting != 0 || _tokens < cost)
            {
                return false;
            }

            _tokens -= cost;
            return true;
        }
    }

    /// <summary>Waits, in arrival order, until <paramref name="cost"/> can be taken, then takes it. Cancellation leaves the queue at once.</summary>
    public async Task TakeAsync(double cost, CancellationToken cancellationToken)
    {
        cost = Clamp(cost);
        lock (_lock)
        {
            _waiting++;
            _queuedDemand += cost;
        }

        try
        {
            await _turnstile.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                while (true)
                {
                    double deficit;
                    lock (_lock)
                    {
                        Refill();
                        if (_tokens >= cost)
                        {
                            _tokens -= cost;
                            return;
                        }

                        deficit = cost - _tokens;
                    }

                    var wait = TimeSpan.FromSeconds(deficit / PerSecond);
                    await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _time, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _turnstile.Release();
            }
        }
        finally
        {
            lock (_lock)
            {
                _waiting--;
                _queuedDemand -= cost;
                _idleSince = _time.GetTimestamp();
            }
        }
    }

    /// <summary>Charges <paramref name="tokens"/> more (a debt, down to one bucket below zero) or gives them back (up to full).</summary>
    public void Correct(double tokens)
    {
        lock (_lock)
        {
            Refill();
            _tokens = Math.Clamp(_tokens - tokens, -Capacity, Capacity);
        }
    }

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                return _waiting == 0 ? _time.GetElapsedTime(_idleSince) : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            Refill();
            return new RateLimiterStatistics { CurrentAvailablePermits = (long)Math.Max(0, _tokens), CurrentQueuedCount = _waiting };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        permitCount == 0 ? (HasRoomFor(0) ? Lease.Acquired : Lease.Refused(TimeSpan.Zero))
        : TryTake(permitCount) ? Lease.Acquired : Lease.Refused(EstimatedWait(permitCount));

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        await TakeAsync(permitCount, cancellationToken).ConfigureAwait(false);
        return Lease.Acquired;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _turnstile.Dispose();
        }

        base.Dispose(disposing);
    }

    // A single request larger than the bucket passes when the bucket is full rather than never.
    private double Clamp(double cost) => Math.Min(cost, Capacity);

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = (now - _refilledAt) / (double)_time.TimestampFrequency;
        if (elapsed > 0)
        {
            _tokens = Math.Min(Capacity, _tokens + elapsed * PerSecond);
            _refilledAt = now;
        }
    }

    private sealed class Lease : RateLimitLease
    {
        public static readonly Lease Acquired = new(true, null);

        private readonly TimeSpan? _retryAfter;

        private Lease(bool acquired, TimeSpan? retryAfter)
        {
            IsAcquired = acquired;
            _retryAfter = retryAfter;
        }

        public override bool IsAcquired { get; }

        public override IEnumerable<string> MetadataNames => _retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public static Lease Refused(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (_retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = wait;
                return true;
            }

            metadata = null;
            return false;
        }

        [SuppressMessage("Design", "CA1065", Justification = "Nothing to release: the tokens were taken for good.")]
        protected override void Dispose(bool disposing)
        {
        }
    }
}
