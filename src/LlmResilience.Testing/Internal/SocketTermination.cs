using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace LlmResilience.Testing;

/// <summary>
/// Ends a connection without a (complete) response, the two ways a peer can: an RST or a FIN.
/// </summary>
/// <remarks>
/// <para>
/// Kestrel's own abort (<see cref="HttpContext.Abort"/>) closes its socket with a zero linger (an RST) since .NET 7, unless
/// the process set the <c>Microsoft.AspNetCore.Server.Kestrel.FinOnError</c> switch, in which case it shuts down first (a
/// FIN). Neither is what a behavior promises in every process, so both paths act on the socket themselves and only then
/// abort the request, which makes Kestrel's close of the already closed socket a no-op.
/// </para>
/// <para>What a .NET client (SocketsHttpHandler, HTTP/1.1, Linux) observes, as the tests pin:</para>
/// <list type="bullet">
/// <item><description>
/// <see cref="Reset"/> before any response byte, on a new connection: <see cref="System.Net.Http.HttpRequestException"/>
/// with <see cref="System.Net.Http.HttpRequestError.Unknown"/> ("An error occurred while sending the request"), inner
/// <see cref="IOException"/> ("Unable to read data from the transport connection: Connection reset by peer"), inner
/// <see cref="SocketException"/> with <see cref="SocketError.ConnectionReset"/> (ECONNRESET).
/// After SSE events: the response stream's read throws <see cref="IOException"/> with inner
/// <see cref="SocketException"/> <see cref="SocketError.ConnectionReset"/>, once the events already sent were read.
/// </description></item>
/// <item><description>
/// <see cref="Close"/> before any response byte, on a new connection: <see cref="System.Net.Http.HttpRequestException"/>
/// with <see cref="System.Net.Http.HttpRequestError.ResponseEnded"/>, inner <see cref="System.Net.Http.HttpIOException"/>
/// ("The response ended prematurely", also <see cref="System.Net.Http.HttpRequestError.ResponseEnded"/>), no
/// <see cref="SocketException"/> anywhere in the chain.
/// </description></item>
/// <item><description>
/// Either one on a reused keep-alive connection: the same exceptions. SocketsHttpHandler does not retry by itself: the
/// request went out whole, so it cannot know that the server did not act on it.
/// </description></item>
/// </list>
/// </remarks>
internal static class SocketTermination
{
    private static readonly object EndedByServerKey = new();

    /// <summary>Tells whether <see cref="Reset"/> or <see cref="Close"/> ended the request's connection (not the client).</summary>
    public static bool EndedByServer(HttpContext httpContext) => httpContext.Items.ContainsKey(EndedByServerKey);

    /// <summary>Sends a TCP RST: the client's next read fails with ECONNRESET; whatever the server had not sent yet is discarded.</summary>
    public static void Reset(HttpContext httpContext, Socket? socket)
    {
        httpContext.Items[EndedByServerKey] = true;
        if (socket is not null)
        {
            // A zero linger makes close() drop the connection with an RST instead of a FIN.
            socket.LingerState = new LingerOption(true, 0);
            socket.Close(0);
        }

        httpContext.Abort();
    }

    /// <summary>Sends a graceful FIN without (the rest of) a response: the client reads an end of stream.</summary>
    public static void Close(HttpContext httpContext, Socket? socket)
    {
        httpContext.Items[EndedByServerKey] = true;
        if (socket is not null)
        {
            Fin(socket);
        }

        httpContext.Abort();
    }

    /// <summary>
    /// Shuts the socket down (FIN) and closes it, as a proxy or load balancer closing a connection does: the peer reads an
    /// end of stream, and any data it sends afterwards is answered by the kernel with an RST.
    /// </summary>
    /// <remarks>
    /// The shutdown comes first, so the close stays graceful even while Kestrel has a receive pending on the socket
    /// (.NET makes a close that cancels pending operations abortive unless the socket was shut down). The request body was
    /// read in full, so no unread data turns the close into an RST either.
    /// </remarks>
    public static void Fin(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // The peer reset the connection already: there is nothing left to close gracefully.
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        socket.Close();
    }
}
