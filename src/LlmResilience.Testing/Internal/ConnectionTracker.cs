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

    /// <summary>Gets the number of connections open now (until the transport has seen the connection end).</summary>
    public int Open => _open.Count;

    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        Interlocked.Increment(ref _accepted);
        using var state = new ConnectionState(connection);
        var id = connection.ConnectionId;
        _open[id] = state;

        // Open until the transport's receive loop has ended: for a close from this side that is after the socket was
        // shut down, so a test that sees the count drop knows the FIN is on the wire. (Kestrel shuts the socket down
        // only after this middleware returns, so its return is too early.)
        // Not unregistered on return: the token fires after that. Kestrel disposes its source with the connection.
        _ = connection.ConnectionClosed.Register(() => _open.TryRemove(id, out _));
        await next(connection).ConfigureAwait(false);
    };

    public ConnectionState? Find(string connectionId) => _open.GetValueOrDefault(connectionId);
}
