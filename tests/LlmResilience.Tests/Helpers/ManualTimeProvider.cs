namespace LlmResilience.Tests.Helpers;

/// <summary>
/// A clock that moves only when a test says so (Microsoft.Extensions.TimeProvider.Testing is not available here).
/// Timers fire on <see cref="Advance"/>; <see cref="WaitForTimerAsync"/> lets a test wait, in real milliseconds, until
/// the code under test has scheduled the delay it is expected to schedule.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private readonly List<TimeSpan> _scheduled = [];
    private DateTimeOffset _now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private long _elapsedTicks;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _elapsedTicks;
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>The due times (from now) of the timers that are scheduled.</summary>
    public IReadOnlyList<TimeSpan> PendingTimers()
    {
        lock (_lock)
        {
            return _timers.Where(t => t.DueAt is not null).Select(t => TimeSpan.FromTicks(t.DueAt!.Value - _elapsedTicks)).ToList();
        }
    }

    /// <summary>Every due time a timer was ever scheduled for (from the moment it was scheduled), in order.</summary>
    public IReadOnlyList<TimeSpan> ScheduledDueTimes()
    {
        lock (_lock)
        {
            return [.. _scheduled];
        }
    }

    /// <summary>Waits (in real time, bounded) until a timer whose remaining due time matches is scheduled.</summary>
    public async Task WaitForTimerAsync(Func<TimeSpan, bool> match, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!PendingTimers().Any(match))
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"No matching timer was scheduled; pending: {string.Join(", ", PendingTimers())}");
            }

            await Task.Delay(2);
        }
    }

    /// <summary>Moves the clock forward, firing every timer that falls due, in order.</summary>
    public void Advance(TimeSpan by)
    {
        long target;
        lock (_lock)
        {
            target = _elapsedTicks + by.Ticks;
        }

        while (true)
        {
            ManualTimer? next;
            lock (_lock)
            {
                next = _timers.Where(t => t.DueAt is { } due && due <= target).OrderBy(t => t.DueAt).FirstOrDefault();
                if (next is null)
                {
                    _now += TimeSpan.FromTicks(target - _elapsedTicks);
                    _elapsedTicks = target;
                    return;
                }

                var due = next.DueAt!.Value;
                _now += TimeSpan.FromTicks(due - _elapsedTicks);
                _elapsedTicks = due;
                next.DueAt = next.Period is { } period ? due + period : null;
            }

            next.Fire();
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long? DueAt { get; set; }
        public long? Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    DueAt = null;
                    return true;
                }

                DueAt = owner._elapsedTicks + Math.Max(0, dueTime.Ticks);
                owner._scheduled.Add(dueTime);
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period.Ticks;
                owner._timers.Add(this);
            }

            if (dueTime <= TimeSpan.Zero)
            {
                owner.Advance(TimeSpan.Zero);
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
                DueAt = null;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
