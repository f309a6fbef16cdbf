using System.Net;
using System.Net.Sockets;

namespace LlmResilience.Testing;

/// <summary>
/// A loopback address whose TCP connects never complete, for testing connect timeouts: a socket listens with a
/// backlog of zero, one connection fills its accept queue and is never accepted, and the kernel drops the SYNs of
/// every later connect (Linux behaviour; on other systems such connects may be refused instead).
/// </summary>
public sealed class UnresponsiveEndpoint : IDisposable
{
    private readonly Socket _listener;
    private readonly Socket _filler;

    private UnresponsiveEndpoint(Socket listener, Socket filler, int port)
    {
        _listener = listener;
        _filler = filler;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/v1/");
    }

    /// <summary>Gets the base address (ending in <c>/v1/</c>) whose connects hang.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Opens the listener and fills its accept queue.</summary>
    /// <param name="cancellationToken">Cancels the set-up.</param>
    /// <returns>The endpoint; dispose it to release the port.</returns>
    public static async Task<UnresponsiveEndpoint> StartAsync(CancellationToken cancellationToken = default)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(0);
            var endPoint = (IPEndPoint)listener.LocalEndPoint!;
            await filler.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return new UnresponsiveEndpoint(listener, filler, endPoint.Port);
        }
        catch
        {
            filler.Dispose();
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Closes the listener and the connection that filled its queue.</summary>
    public void Dispose()
    {
        _filler.Dispose();
        _listener.Dispose();
    }
}
