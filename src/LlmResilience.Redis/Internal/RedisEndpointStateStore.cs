using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace LlmResilience;

/// <summary>
/// The endpoint state store of an instance in a fleet: the in-memory states of the core, each of which publishes the
/// outages it learns (cooldown, sidelined key, open breaker) to Redis, and receives what the other instances published.
/// </summary>
/// <remarks>
/// <para>Nothing here runs on a call's path but <see cref="Publish"/> and <see cref="Withdraw"/>, which queue a write and
/// return. The fleet's view reaches each <see cref="EndpointState"/> through <see cref="EndpointState.ApplyShared"/> from a
/// background loop (one MGET for every endpoint), woken at once by a pub/sub message when another instance publishes,
/// and otherwise every <see cref="LlmRedisCoordinationOptions.RefreshInterval"/>: reading availability costs no round trip.</para>
/// <para>Redis: per endpoint and outage one string key <c>{prefix}:ep:{state key}:{outage}</c> holding the Unix time in
/// milliseconds it lasts until, expiring then (a script keeps the later of two writes); the channel
/// <c>{prefix}:changes</c> carries the state key of what changed. The state key is the endpoint's name and a hash of its
/// address and key, never the key; no prompt or answer is written.</para>
/// <para>Any failure or timeout switches the instance to local state at once (logged once); the loop keeps probing, and
/// when Redis answers again it republishes what this instance learned meanwhile (logged once).</para>
/// </remarks>
internal sealed class RedisEndpointStateStore : IEndpointStateStore, IEndpointStateSharing, ISharedBudget, IAsyncDisposable, IDisposable
{
    private const int Starting = 0;
    private const int Shared = 1;
    private const int Local = 2;

    // Keeps the later of two outages (two instances may learn the same one), and tells the fleet when it changed.
    private const string PublishScript = """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tonumber(ARGV[1]) > current then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          redis.call('PUBLISH', ARGV[3], ARGV[4])
          return 1
        end
        return 0
        """;

    private const string WithdrawScript = """
        if redis.call('DEL', KEYS[1]) == 1 then
          redis.call('PUBLISH', ARGV[1], ARGV[2])
        end
        return 0
        """;

    // The pacing budget: two smooth token buckets (requests, tokens) shaped as the pacer's own (a second's share, refilled
    // continuously at the limit less the headroom), on Redis's clock so that every instance agrees. Takes from both or
    // from neither, in one round trip; returns 0 when taken, else the milliseconds until there is room.
    private const string TakeScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local function level(key, capacity, rate)
          local stored = redis.call('HMGET', key, 'level', 'at')
          local value = tonumber(stored[1])
          if value == nil then
            return capacity
          end
          local elapsed = math.max(0, now - tonumber(stored[2]))
          return math.min(capacity, value + elapsed * rate / 1000)
        end
        local function save(key, value, capacity, rate)
          redis.call('HSET', key, 'level', tostring(value), 'at', tostring(now))
          redis.call('PEXPIRE', key, math.ceil(2 * capacity * 1000 / rate) + 1000) -- a debt (below zero) refills too
        end
        local rcap, rrate, tcap, trate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local cost = math.min(tonumber(ARGV[5]), tcap)
        local wait = 0
        local requests, tokens
        if rcap > 0 then
          requests = level(KEYS[1], rcap, rrate)
          if requests < 1 then
            wait = math.max(wait, (1 - requests) * 1000 / rrate)
          end
        end
        if tcap > 0 then
          tokens = level(KEYS[2], tcap, trate)
          if tokens < cost then
            wait = math.max(wait, (cost - tokens) * 1000 / trate)
          end
        end
        if wait > 0 then
          return math.ceil(wait)
        end
        if requests then
          save(KEYS[1], requests - 1, rcap, rrate)
        end
        if tokens then
          save(KEYS[2], tokens - cost, tcap, trate)
        end
        return 0
        """;

    // A correction after an answer's usage, on the tokens bucket the take script keeps: refilled to now, then charged
    // (ARGV[3] > 0, down to one bucket below zero: a debt the refill pays back) or given back (up to full).
    private const string CorrectScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local capacity, rate, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local stored = redis.call('HMGET', KEYS[1], 'level', 'at')
        local level = capacity
        if tonumber(stored[1]) ~= nil then
          level = math.min(capacity, tonumber(stored[1]) + math.max(0, now - tonumber(stored[2])) * rate / 1000)
        end
        level = math.max(-capacity, math.min(capacity, level - tokens))
        redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
        redis.call('PEXPIRE', KEYS[1], math.ceil(2 * capacity * 1000 / rate) + 1000)
        return 0
        """;

    private static readonly EndpointOutage[] Outages = [EndpointOutage.Cooldown, EndpointOutage.Sidelined, EndpointOutage.BreakerOpen, EndpointOutage.RateLimitExhausted];

    private readonly ConcurrentDictionary<string, EndpointState> _states = new(StringComparer.Ordinal);
    private readonly Func<CancellationToken, Task<IConnectionMultiplexer>> _connect;
    private readonly bool _ownsConnection;
    private readonly LlmRedisCoordinationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisChannel _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private IConnectionMultiplexer? _connection;
    private CancellationTokenSource? _wake;
    private int _mode = Starting;
    private int _failures;
    private int _disposed;

    public RedisEndpointStateStore(Func<CancellationToken, Task<IConnectionMultiplexer>> connect, bool ownsConnection, LlmRedisCoordinationOptions options,
        TimeProvider time, ILogger logger)
    {
        _connect = connect;
        _ownsConnection = ownsConnection;
        _options = options;
        _time = time;
        _logger = logger;
        _channel = RedisChannel.Literal(options.KeyPrefix + ":changes");
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Whether this instance shares state through Redis now (<see langword="false"/> while starting or while Redis is out).</summary>
    public bool IsShared => Volatile.Read(ref _mode) == Shared;

    /// <summary>Every endpoint's state by its key (for the tests and diagnostics).</summary>
    public IEnumerable<KeyValuePair<string, EndpointState>> States => _states;

    public EndpointState Get(string endpointKey)
    {
        if (_states.TryGetValue(endpointKey, out var state))
        {
            return state;
        }

        var added = _states.GetOrAdd(endpointKey, key => new EndpointState(key, this, this));
        Wake(); // read what the fleet knows about it now rather than at the next refresh
        return added;
    }

    public void Publish(string endpointKey, EndpointOutage reason, DateTimeOffset until)
    {
        if (Volatile.Read(ref _mode) == Shared && Volatile.Read(ref _connection) is { } connection)
        {
            _ = PublishAsync(connection, endpointKey, reason, until);
        }

        // Otherwise it is republished when Redis answers (RepublishLocal).
    }

    public void Withdraw(string endpointKey, EndpointOutage reason)
    {
        if (Volatile.Read(ref _mode) == Shared && Volatile.Read(ref _connection) is { } connection)
        {
            _ = WithdrawAsync(connection, endpointKey, reason);
        }
    }

    public async ValueTask<TimeSpan?> TryTakeAsync(string endpointKey, SmoothTokenBucket? requests, SmoothTokenBucket? tokensBucket, int tokens,
        CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _mode) != Shared || Volatile.Read(ref _connection) is not { } connection)
        {
            return null;
        }

        try
        {
            var budget = $"{_options.KeyPrefix}:budget:{endpointKey}";
            var result = await connection.GetDatabase().ScriptEvaluateAsync(TakeScript, [budget + ":requests", budget + ":tokens"],
                    [requests?.Capacity ?? 0, requests?.PerSecond ?? 0, tokensBucket?.Capacity ?? 0, tokensBucket?.PerSecond ?? 0, tokens])
                .WaitAsync(_options.OperationTimeout, _time, cancellationToken).ConfigureAwait(false);
            return TimeSpan.FromMilliseconds((long)result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            GoLocal(Describe(ex));
            return null;
        }
    }

    public void Correct(string endpointKey, SmoothTokenBucket tokensBucket, int tokens)
    {
        if (Volatile.Read(ref _mode) != Shared || Volatile.Read(ref _connection) is not { } connection)
        {
            return;
        }

        try
        {
            // Fire and forget: the answer is already in the caller's hands, and nothing waits for Redis.
            _ = connection.GetDatabase().ScriptEvaluateAsync(CorrectScript, [$"{_options.KeyPrefix}:budget:{endpointKey}:tokens"],
                [tokensBucket.Capacity, tokensBucket.PerSecond, tokens], CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            GoLocal(Describe(ex));
        }
    }

    private RedisKey KeyOf(string endpointKey, EndpointOutage reason) =>
        $"{_options.KeyPrefix}:ep:{endpointKey}:{reason switch { EndpointOutage.Cooldown => "cooldown", EndpointOutage.Sidelined => "sidelined", EndpointOutage.BreakerOpen => "breaker", _ => "exhausted" }}";

    private async Task PublishAsync(IConnectionMultiplexer connection, string endpointKey, EndpointOutage reason, DateTimeOffset until)
    {
        var ttl = (long)Math.Ceiling((until - _time.GetUtcNow()).TotalMilliseconds);
        if (ttl <= 0)
        {
            return;
        }

        try
        {
            await connection.GetDatabase().ScriptEvaluateAsync(PublishScript, [KeyOf(endpointKey, reason)],
                    [until.ToUnixTimeMilliseconds(), ttl, _channel.ToString(), endpointKey])
                .WaitAsync(_options.OperationTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            GoLocal(Describe(ex));
        }
    }

    private async Task WithdrawAsync(IConnectionMultiplexer connection, string endpointKey, EndpointOutage reason)
    {
        try
        {
            await connection.GetDatabase().ScriptEvaluateAsync(WithdrawScript, [KeyOf(endpointKey, reason)], [_channel.ToString(), endpointKey])
                .WaitAsync(_options.OperationTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            GoLocal(Describe(ex));
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var subscribed = false;
        Task<IConnectionMultiplexer>? connecting = null;
        while (!stop.IsCancellationRequested)
        {
            var wake = new CancellationTokenSource();
            Volatile.Write(ref _wake, wake);
            try
            {
                var connection = Volatile.Read(ref _connection);
                if (connection is null)
                {
                    // A first connection that takes long counts as an outage (logged) while it goes on in the background.
                    connecting ??= _connect(stop);
                    connection = await connecting.WaitAsync(_options.OperationTimeout, _time, stop).ConfigureAwait(false);
                    connection.ConnectionFailed += (_, e) => GoLocal($"connection failed: {e.FailureType}");
                    connection.ConnectionRestored += (_, _) => Wake();
                    Volatile.Write(ref _connection, connection);
                }

                if (!subscribed)
                {
                    // StackExchange.Redis subscribes again by itself after a reconnect.
                    await connection.GetSubscriber().SubscribeAsync(_channel, (_, _) => Wake()).WaitAsync(_options.OperationTimeout, _time, stop).ConfigureAwait(false);
                    subscribed = true;
                }

                // A refresh that began before a failure elsewhere proves nothing about Redis now.
                var failures = Volatile.Read(ref _failures);
                await RefreshAsync(connection, stop).ConfigureAwait(false);
                GoShared(connection, failures);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                GoLocal(Describe(ex));
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, wake.Token);
            try
            {
                await Task.Delay(_options.RefreshInterval, _time, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // woken: a change was published, an endpoint was added, or the connection came back
            }

            wake.Dispose();
        }
    }

    // One MGET for every outage of every endpoint; the latest one still running is what the fleet knows.
    private async Task RefreshAsync(IConnectionMultiplexer connection, CancellationToken stop)
    {
        var states = _states.ToArray();
        if (states.Length == 0)
        {
            await connection.GetDatabase().PingAsync().WaitAsync(_options.OperationTimeout, _time, stop).ConfigureAwait(false);
            return;
        }

        var keys = new RedisKey[states.Length * Outages.Length];
        for (var i = 0; i < states.Length; i++)
        {
            for (var j = 0; j < Outages.Length; j++)
            {
                keys[(i * Outages.Length) + j] = KeyOf(states[i].Key, Outages[j]);
            }
        }

        var values = await connection.GetDatabase().StringGetAsync(keys).WaitAsync(_options.OperationTimeout, _time, stop).ConfigureAwait(false);
        for (var i = 0; i < states.Length; i++)
        {
            var until = DateTimeOffset.MinValue;
            var reason = EndpointOutage.Cooldown;
            for (var j = 0; j < Outages.Length; j++)
            {
                if (values[(i * Outages.Length) + j] is { HasValue: true } value
                    && long.TryParse(value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
                    && DateTimeOffset.FromUnixTimeMilliseconds(ms) is var end && end > until)
                {
                    until = end;
                    reason = Outages[j];
                }
            }

            states[i].Value.ApplyShared(until, reason);
        }
    }

    private void GoLocal(string reason)
    {
        Interlocked.Increment(ref _failures);
        if (Interlocked.Exchange(ref _mode, Local) != Local)
        {
            RedisLog.Unavailable(_logger, reason);
        }
    }

    // The type and, for a timeout, the limit: a driver's message may carry the configuration string (and its password).
    private string Describe(Exception ex) => ex switch
    {
        TimeoutException => string.Create(CultureInfo.InvariantCulture, $"no answer within {_options.OperationTimeout.TotalMilliseconds:0} ms"),
        RedisConnectionException connection => $"{nameof(RedisConnectionException)}: {connection.FailureType}",
        _ => ex.GetType().Name,
    };

    private void GoShared(IConnectionMultiplexer connection, int failuresBefore)
    {
        if (Volatile.Read(ref _failures) != failuresBefore)
        {
            return;
        }

        var previous = Interlocked.Exchange(ref _mode, Shared);
        if (previous == Shared)
        {
            return;
        }

        if (previous == Local)
        {
            RedisLog.Restored(_logger);
        }

        // What this instance learned while it was not sharing.
        var now = _time.GetUtcNow();
        foreach (var (key, state) in _states)
        {
            var (cooldown, sidelined, breaker) = state.LocalOutages();
            foreach (var (reason, until) in new[] { (EndpointOutage.Cooldown, cooldown), (EndpointOutage.Sidelined, sidelined), (EndpointOutage.BreakerOpen, breaker) })
            {
                if (until > now)
                {
                    _ = PublishAsync(connection, key, reason, until);
                }
            }
        }
    }

    private void Wake()
    {
        try
        {
            Volatile.Read(ref _wake)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the loop is past that wait already
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        if (_ownsConnection && Volatile.Read(ref _connection) is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
