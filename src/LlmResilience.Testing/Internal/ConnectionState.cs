using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace LlmResilience.Testing;

/// <summary>
/// One accepted TCP connection: its socket (for resets) and, once a behavior asked for it, a load balancer's idle timeout.
/// </summary>
internal sealed class ConnectionState : IDisposable
{
    private readonly Lock _gate = new();
    private readonly ConnectionContext _connection;
    private readonly IConnectionLifetimeNotificationFeature? _lifetime;
    private TimeSpan? _idleTimeout;
    private ITimer? _idleTimer;
    private bool _closed;

    public ConnectionState(ConnectionContext connection)
    {
        _connection = connection;
        Socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        _lifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
    }

    /// <summary>Gets the socket Kestrel accepted, or <see langword="null"/> on a transport without one.</summary>
    public Socket? Socket { get; }

    /// <summary>
    /// From now on, close this connection whenever it has been idle (between a completed response and the next request)
    /// for <paramref name="idleAfter"/>, as a load balancer's idle timeout does for the rest of a connection's life.
    /// </summary>
    public void CloseWhenIdle(TimeSpan idleAfter)
    {
        lock (_gate)
        {
            _idleTimeout = idleAfter;
        }
    }

    /// <summary>A request arrived: the connection is no longer idle.</summary>
    public void OnRequestStarted()
    {
        lock (_gate)
        {
            _idleTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>A response completed: the idle clock starts. Kestrel runs this before it reads the next request.</summary>
    public void OnResponseCompleted()
    {
        lock (_gate)
        {
            if (_idleTimeout is not { } idleAfter || _closed)
            {
                return;
            }

            // Real time on purpose: the peer is a real socket, whatever clock the test gave the server.
            _idleTimer ??= TimeProvider.System.CreateTimer(
                static state => ((ConnectionState)state!).CloseIdle(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _idleTimer.Change(idleAfter, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            _idleTimer?.Dispose();
        }
    }

    private void CloseIdle()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
        }

        // A load balancer's idle timeout closes gracefully (FIN). Kestrel's graceful close stops waiting for the next
        // request, lets its send loop finish writing what the last response left in the transport (a close of the socket
        // here could cut that off), then shuts the socket down: a FIN. Its abort would send an RST instead.
        if (_lifetime is not null)
        {
            _lifetime.RequestClose();
        }
        else if (Socket is not null)
        {
            SocketTermination.Fin(Socket);
        }
        else
        {
            _connection.Abort(new ConnectionAbortedException("FakeLlmServer: idle keep-alive timeout."));
        }
    }
}
