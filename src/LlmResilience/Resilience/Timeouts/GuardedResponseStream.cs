using System.Buffers;

namespace LlmResilience;

/// <summary>
/// The body of a streamed response once its first event has been read: it first replays the bytes read while
/// waiting for that event, then passes the rest through, and enforces two clocks on every read:
/// <see cref="LlmResilienceOptions.StreamIdleTimeout"/> (reset only by data, never by SSE comments such as
/// <c>: keep-alive</c>, so a server that only keeps the connection warm cannot hang the caller) and the remainder of
/// <see cref="LlmResilienceOptions.TotalTimeout"/>.
/// </summary>
/// <remarks>
/// One timer and one <see cref="CancellationTokenSource"/> per stream; a read allocates nothing. When a clock fires the
/// pending read is cancelled and fails with <see cref="LlmException"/> of kind
/// <see cref="LlmFailureKind.StreamInterrupted"/> (after the first event nothing is retried: it would duplicate output).
/// A caller's cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </remarks>
internal sealed class GuardedResponseStream : Stream
{
    private readonly Stream _inner;
    private readonly TimeProvider _time;
    private readonly TimeSpan _idleTimeout;
    private readonly long _deadlineTimestamp;
    private readonly TimeSpan _totalTimeout;
    private readonly Uri? _endpoint;
    private readonly CancellationTokenSource _timeoutCts = new();
    private readonly ITimer _timer;
    private SseActivityScanner _scanner;
    private byte[]? _prefix;
    private int _prefixOffset;
    private readonly int _prefixEnd;
    private CancellationToken _registeredToken;
    private CancellationTokenRegistration _registration;
    private volatile bool _timerIsTotal;
    private int _disposed;

    public GuardedResponseStream(Stream inner, byte[] prefix, int prefixLength, SseActivityScanner scanner, TimeProvider time,
        TimeSpan idleTimeout, long deadlineTimestamp, TimeSpan totalTimeout, Uri? endpoint)
    {
        _inner = inner;
        _prefix = prefix;
        _prefixEnd = prefixLength;
        _scanner = scanner;
        _time = time;
        _idleTimeout = idleTimeout;
        _deadlineTimestamp = deadlineTimestamp;
        _totalTimeout = totalTimeout;
        _endpoint = endpoint;
        _timer = time.CreateTimer(static s => ((GuardedResponseStream)s!).OnClockFired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        RestartIdleClock();
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_prefix is not null)
        {
            return ReadPrefix(buffer.Span);
        }

        if (cancellationToken != _registeredToken && cancellationToken.CanBeCanceled)
        {
            // The same token comes with every read of an enumeration, so this registers once per stream, not per read.
            _registration.Dispose();
            _registration = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _timeoutCts);
            _registeredToken = cancellationToken;
        }

        int read;
        try
        {
            read = await _inner.ReadAsync(buffer, _timeoutCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_timeoutCts.IsCancellationRequested)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw ClockExpired();
        }

        if (read > 0)
        {
            _scanner.Scan(buffer.Span[..read], out var sawData);
            if (sawData)
            {
                RestartIdleClock();
            }
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous reads (the OpenAI SDK's synchronous streaming uses them) get the same clocks.
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_prefix is not null)
        {
            return ReadPrefix(buffer);
        }

        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = ReadAsync(rented.AsMemory(0, buffer.Length), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _timer.Dispose();
            _registration.Dispose();
            _timeoutCts.Dispose();
            _inner.Dispose();
            if (_prefix is { } prefix)
            {
                _prefix = null;
                ArrayPool<byte>.Shared.Return(prefix);
            }
        }

        base.Dispose(disposing);
    }

    private int ReadPrefix(Span<byte> destination)
    {
        var prefix = _prefix!;
        var count = Math.Min(destination.Length, _prefixEnd - _prefixOffset);
        prefix.AsSpan(_prefixOffset, count).CopyTo(destination);
        _prefixOffset += count;
        if (_prefixOffset == _prefixEnd)
        {
            _prefix = null;
            ArrayPool<byte>.Shared.Return(prefix);
        }

        return count;
    }

    private void RestartIdleClock()
    {
        var remaining = _time.GetElapsedTime(_time.GetTimestamp(), _deadlineTimestamp);
        _timerIsTotal = remaining <= _idleTimeout;
        _timer.Change(remaining <= _idleTimeout ? (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) : _idleTimeout, Timeout.InfiniteTimeSpan);
    }

    private void OnClockFired()
    {
        try
        {
            _timeoutCts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The stream was disposed while the timer fired.
        }
    }

    private LlmException ClockExpired() => _timerIsTotal
        ? new LlmException(LlmFailureKind.StreamInterrupted,
            $"The stream from {Endpoints.Describe(_endpoint)} was still running when TotalTimeout ({_totalTimeout}) expired. Raise LlmResilienceOptions.TotalTimeout for long generations, or ask for fewer tokens.")
        : new LlmException(LlmFailureKind.StreamInterrupted,
            $"The stream from {Endpoints.Describe(_endpoint)} sent no data for StreamIdleTimeout ({_idleTimeout}); keep-alive comments do not count. The server or a proxy stalled: retry the call, or raise LlmResilienceOptions.StreamIdleTimeout if the model pauses that long.") { Stall = StreamStalls.Idle };
}
