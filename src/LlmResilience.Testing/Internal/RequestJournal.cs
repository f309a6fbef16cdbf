namespace LlmResilience.Testing;

/// <summary>
/// The script of behaviors and the record of requests, under one lock so that the n-th recorded request is the one that
/// consumed the n-th scripted behavior.
/// </summary>
internal sealed class RequestJournal
{
    private readonly Lock _gate = new();
    private readonly Queue<FakeBehavior> _script = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<Waiter> _waiters = [];
    private FakeBehavior _defaultBehavior = FakeBehavior.Ok();
    private Exception? _closed;

    public FakeBehavior DefaultBehavior
    {
        get
        {
            lock (_gate)
            {
                return _defaultBehavior;
            }
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_gate)
            {
                _defaultBehavior = value;
            }
        }
    }

    public int PendingBehaviors
    {
        get
        {
            lock (_gate)
            {
                return _script.Count;
            }
        }
    }

    /// <summary>Appends the behaviors in one step, so that concurrent calls do not interleave them.</summary>
    public void Enqueue(IEnumerable<FakeBehavior> behaviors)
    {
        lock (_gate)
        {
            foreach (var behavior in behaviors)
            {
                _script.Enqueue(behavior);
            }
        }
    }

    public void Enqueue(FakeBehavior behavior, int times)
    {
        lock (_gate)
        {
            for (var i = 0; i < times; i++)
            {
                _script.Enqueue(behavior);
            }
        }
    }

    public IReadOnlyList<RecordedRequest> Snapshot()
    {
        lock (_gate)
        {
            return _requests.ToArray();
        }
    }

    /// <summary>
    /// Picks the behavior for a request (<paramref name="answer"/> when given, else the next scripted one, else the default)
    /// and records the request.
    /// </summary>
    public (RecordedRequest Request, FakeBehavior Behavior) Admit(FakeBehavior? answer, Func<int, FakeBehavior, RecordedRequest> record)
    {
        List<Waiter>? ready = null;
        RecordedRequest request;
        FakeBehavior behavior;
        lock (_gate)
        {
            behavior = answer ?? (_script.TryDequeue(out var next) ? next : _defaultBehavior);
            request = record(_requests.Count, behavior);
            _requests.Add(request);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _requests.Count)
                {
                    (ready ??= []).Add(_waiters[i] with { Request = _requests[_waiters[i].Count - 1] });
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (ready is not null)
        {
            foreach (var waiter in ready)
            {
                waiter.Completion.TrySetResult(waiter.Request!);
            }
        }

        return (request, behavior);
    }

    public async Task<RecordedRequest> WaitAsync(int count, TimeSpan timeout)
    {
        Waiter waiter;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed is not null, this);
            if (_requests.Count >= count)
            {
                return _requests[count - 1];
            }

            waiter = new Waiter(count, new TaskCompletionSource<RecordedRequest>(TaskCreationOptions.RunContinuationsAsynchronously), null);
            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Completion.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            int arrived;
            lock (_gate)
            {
                _waiters.Remove(waiter);
                arrived = _requests.Count;
            }

            throw new TimeoutException(
                $"FakeLlmServer: waited {timeout.TotalMilliseconds:0} ms for request #{count}, but {arrived} request(s) arrived.");
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _script.Clear();
            _requests.Clear();
        }
    }

    /// <summary>Fails every waiter: the server is gone and no request will arrive.</summary>
    public void Close(Exception reason)
    {
        Waiter[] waiters;
        lock (_gate)
        {
            _closed = reason;
            waiters = [.. _waiters];
            _waiters.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.Completion.TrySetException(reason);
        }
    }

    private sealed record Waiter(int Count, TaskCompletionSource<RecordedRequest> Completion, RecordedRequest? Request);
}
