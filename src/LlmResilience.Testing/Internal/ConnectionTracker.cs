using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace LlmResilience.Testing;

/// <summary>Kestrel connection middleware: counts accepted connections and keeps a <see cref="ConnectionState"/> for each open one.</summary>
internal sealed class ConnectionTracker
{
    private readonly ConcurrentDictionary<string, ConnectionState> _open = new(StringComparer.Ordinal);
    private int _accepted;

    /// <summary>Gets the number of TCP connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Gets the number of connections open now.</summary>
    public int Open => _open.Count;

    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        Interlocked.Increment(ref _accepted);
        using var state = new ConnectionState(connection);
        _open[connection.ConnectionId] = state;
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _open.TryRemove(connection.ConnectionId, out _);
        }
    };

    public ConnectionState? Find(string connectionId) => _open.GetValueOrDefault(connectionId);
}
