namespace LlmResilience;

/// <summary>
/// Counts calls and retries over a sliding window of ten slots and says whether one more retry fits in
/// <c>max(MinRetries, RetryRatio × calls)</c>. One per pipeline (client-wide); thread-safe; allocation-free.
/// </summary>
internal sealed class RetryBudget
{
    private const int Slots = 10;

    private readonly Lock _lock = new();
    private readonly LlmRetryBudgetOptions _options;
    private readonly TimeProvider _time;
    private readonly long _slotTicks;
    private readonly int[] _calls = new int[Slots];
    private readonly int[] _retries = new int[Slots];
    private long _currentSlot;

    public RetryBudget(LlmRetryBudgetOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _slotTicks = Math.Max(1, (long)(options.Window.TotalSeconds * time.TimestampFrequency / Slots));
        _currentSlot = time.GetTimestamp() / _slotTicks;
    }

    /// <summary>A call started (its first attempt).</summary>
    public void RecordCall()
    {
        // Every call passes here: within the current slot, one atomic increment and no lock. A slot is cleared only when
        // the clock comes back round to it, a whole window later, so the increment cannot land in a slot being cleared.
        var now = _time.GetTimestamp() / _slotTicks;
        if (now == Volatile.Read(ref _currentSlot))
        {
            Interlocked.Increment(ref _calls[(int)(now % Slots)]);
            return;
        }

        lock (_lock)
        {
            Interlocked.Increment(ref _calls[Advance()]);
        }
    }

    /// <summary>Takes one retry from the budget, when it has one.</summary>
    public bool TryTakeRetry()
    {
        lock (_lock)
        {
            var slot = Advance();
            int calls = 0, retries = 0;
            for (var i = 0; i < Slots; i++)
            {
                calls += _calls[i];
                retries += _retries[i];
            }

            if (retries >= Math.Max(_options.MinRetries, _options.RetryRatio * calls))
            {
                return false;
            }

            _retries[slot]++;
            return true;
        }
    }

    // Clears the slots the clock has moved past and returns the index of the current one.
    private int Advance()
    {
        var now = _time.GetTimestamp() / _slotTicks;
        var passed = now - _currentSlot;
        if (passed > 0)
        {
            for (var i = 1; i <= Math.Min(passed, Slots); i++)
            {
                var index = (int)((_currentSlot + i) % Slots);
                _calls[index] = 0;
                _retries[index] = 0;
            }

            Volatile.Write(ref _currentSlot, now); // after the clearing: a lock-free RecordCall that sees the new slot finds it cleared
        }

        return (int)(now % Slots);
    }
}
