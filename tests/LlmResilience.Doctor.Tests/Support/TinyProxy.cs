using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LlmResilience.Doctor.Tests.Support;

/// <summary>
/// A forward proxy on loopback that answers CONNECT: either with a fixed refusal (407, 403, 502), or by opening the tunnel
/// to the requested host and port and copying bytes both ways. It records every request line it read.
/// </summary>
internal sealed class TinyProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string? _refusal;
    private readonly List<string> _requests = [];
    private readonly Task _serving;

    private TinyProxy(string? refusal)
    {
        _refusal = refusal;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _serving = ServeAsync();
    }

    public Uri Address { get; }

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>A proxy that answers every CONNECT with <paramref name="statusLine"/>, such as "407 Proxy Authentication Required".</summary>
    public static TinyProxy Refusing(string statusLine) => new(statusLine);

    /// <summary>A proxy that opens every tunnel asked for.</summary>
    public static TinyProxy Tunneling() => new(null);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream);
            var requestLine = head.Split("\r\n")[0];
            lock (_requests)
            {
                _requests.Add(requestLine);
            }

            if (_refusal is not null || !requestLine.StartsWith("CONNECT ", StringComparison.Ordinal))
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {_refusal ?? "405 Method Not Allowed"}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), _stop.Token);
                return;
            }

            var authority = requestLine.Split(' ')[1];
            var colon = authority.LastIndexOf(':');
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(authority[..colon].Trim('[', ']'), int.Parse(authority[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture), _stop.Token);
            await stream.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), _stop.Token);
            var upstreamStream = upstream.GetStream();
            await Task.WhenAny(stream.CopyToAsync(upstreamStream, _stop.Token), upstreamStream.CopyToAsync(stream, _stop.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client or the upstream went away: the tunnel ends with it.
        }
    }

    private async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one, _stop.Token) == 1)
        {
            bytes.Add(one[0]);
            if (bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n')
            {
                break;
            }
        }

        return Encoding.ASCII.GetString([.. bytes]);
    }
}
