using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LlmResilience.Benchmarks;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 whose own work does not pollute the measurements: one dedicated thread per
/// keep-alive connection, blocking socket calls into one buffer per connection, and pre-encoded responses
/// (<see cref="Payloads"/>). After a connection's first request, serving a request allocates nothing; the server counts
/// the bytes its threads allocate (<see cref="AllocatedBytes"/>, read per thread, which is exact for threads that never
/// await) so that the harness can show it.
/// </summary>
/// <remarks>
/// It reads the request line and headers, then a <c>Content-Length</c> body or a chunked body (up to its final
/// <c>0</c> chunk, no trailers), and answers the SSE stream when the body holds <c>"stream":true</c>, the JSON
/// completion otherwise. Any path is accepted. Requests larger than the 64 KiB buffer are not supported.
/// </remarks>
internal sealed class LoopbackServer : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly Socket _listener;
    private readonly Thread _acceptThread;
    private readonly List<Socket> _connections = [];
    private long _requests;
    private long _streamRequests;
    private long _allocatedBytes;
    private long _firstRequestBytes;
    private long _cpuNanoseconds;
    private bool _measureCpu;
    private volatile bool _disposed;

    private LoopbackServer()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        var port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/");
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "loopback-accept" };
    }

    /// <summary>The server's address, <c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The requests answered so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>The streamed requests answered so far.</summary>
    public long StreamRequests => Interlocked.Read(ref _streamRequests);

    /// <summary>The connections accepted so far.</summary>
    public int Connections
    {
        get
        {
            lock (_connections)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>Bytes allocated by the server's connection threads while serving requests, each connection's first excluded.</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    /// <summary>Bytes allocated by the connection threads up to the end of their first request (one-time socket set-up).</summary>
    public long FirstRequestBytes => Interlocked.Read(ref _firstRequestBytes);

    /// <summary>
    /// CPU time in ns of the connection threads (their own clocks, <c>CLOCK_THREAD_CPUTIME_ID</c>, read after every
    /// request and when a connection ends) when started with <c>measureCpu</c>; 0 otherwise. <c>--throughput</c> subtracts
    /// it from the process's CPU time: a counter kept by the threads themselves, unlike /proc, loses nothing when a
    /// connection's thread ends. Costs one system call per request, on the server's side of the ledger.
    /// </summary>
    public long CpuNanoseconds => Interlocked.Read(ref _cpuNanoseconds);

    public static LoopbackServer Start(bool measureCpu = false)
    {
        var server = new LoopbackServer { _measureCpu = measureCpu };
        server._acceptThread.Start();
        return server;
    }

    public string Describe() =>
        $"loopback server: {Requests} requests ({StreamRequests} streamed) on {Connections} connections, " +
        $"{AllocatedBytes} bytes allocated by the server threads while serving them after each connection's first request " +
        $"(and {FirstRequestBytes} bytes of one-time set-up up to the first)";

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }
        }
    }

    private void AcceptLoop()
    {
        while (!_disposed)
        {
            Socket connection;
            try
            {
                connection = _listener.Accept();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return;
            }

            connection.NoDelay = true;
            lock (_connections)
            {
                _connections.Add(connection);
            }

            new Thread(() => Serve(connection)) { IsBackground = true, Name = "loopback-connection" }.Start();
        }
    }

    private void Serve(Socket socket)
    {
        var buffer = new byte[BufferSize];
        var start = 0;
        var end = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var first = true;
        var cpu = _measureCpu ? ThreadCpu.Nanoseconds() : 0;
        try
        {
            while (true)
            {
                // The request line and headers.
                int headerLength;
                while ((headerLength = buffer.AsSpan(start, end - start).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    if (!Receive(socket, buffer, ref start, ref end))
                    {
                        return;
                    }
                }

                var (contentLength, chunked) = ParseHeaders(buffer.AsSpan(start, headerLength));
                var bodyStart = start + headerLength + 4;

                // The body: Content-Length bytes, or chunks up to the final "0\r\n\r\n".
                int bodyEnd;
                if (chunked)
                {
                    int terminator;
                    while ((terminator = IndexOfLastChunk(buffer.AsSpan(bodyStart, end - bodyStart))) < 0)
                    {
                        var shift = start;
                        if (!Receive(socket, buffer, ref start, ref end))
                        {
                            return;
                        }

                        bodyStart -= shift - start;
                    }

                    bodyEnd = bodyStart + terminator;
                }
                else
                {
                    while (end - bodyStart < contentLength)
                    {
                        var shift = start;
                        if (!Receive(socket, buffer, ref start, ref end))
                        {
                            return;
                        }

                        bodyStart -= shift - start;
                    }

                    bodyEnd = bodyStart + contentLength;
                }

                var stream = IsStreamRequest(buffer.AsSpan(bodyStart, bodyEnd - bodyStart));
                start = bodyEnd;
                if (start == end)
                {
                    start = end = 0;
                }

                SendAll(socket, stream ? Payloads.StreamResponse : Payloads.CompletionResponse);
                Interlocked.Increment(ref _requests);
                if (stream)
                {
                    Interlocked.Increment(ref _streamRequests);
                }

                var now = GC.GetAllocatedBytesForCurrentThread();
                Interlocked.Add(ref first ? ref _firstRequestBytes : ref _allocatedBytes, now - allocated);
                allocated = now;
                first = false;
                if (_measureCpu)
                {
                    var cpuNow = ThreadCpu.Nanoseconds();
                    Interlocked.Add(ref _cpuNanoseconds, cpuNow - cpu);
                    cpu = cpuNow;
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or InvalidDataException)
        {
            // The client closed the connection, or the server is shutting down.
        }
        finally
        {
            socket.Dispose();
            if (_measureCpu)
            {
                Interlocked.Add(ref _cpuNanoseconds, ThreadCpu.Nanoseconds() - cpu);
            }
        }
    }

    /// <summary>Reads more bytes; moves the unread ones to the front when the buffer's tail is full.</summary>
    private static bool Receive(Socket socket, byte[] buffer, ref int start, ref int end)
    {
        if (end == buffer.Length)
        {
            if (start == 0)
            {
                throw new InvalidDataException("Request too large for the benchmark server.");
            }

            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }

        var read = socket.Receive(buffer.AsSpan(end), SocketFlags.None);
        end += read;
        return read > 0;
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> response)
    {
        while (!response.IsEmpty)
        {
            response = response[socket.Send(response, SocketFlags.None)..];
        }
    }

    private static (int ContentLength, bool Chunked) ParseHeaders(ReadOnlySpan<byte> headers)
    {
        var contentLength = 0;
        var chunked = false;
        while (!headers.IsEmpty)
        {
            var lineEnd = headers.IndexOf("\r\n"u8);
            var line = lineEnd < 0 ? headers : headers[..lineEnd];
            headers = lineEnd < 0 ? default : headers[(lineEnd + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue; // the request line
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!Utf8Parser.TryParse(value, out contentLength, out _))
                {
                    throw new InvalidDataException("Bad Content-Length.");
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                chunked = value.IndexOf("chunked"u8) >= 0;
            }
        }

        return (contentLength, chunked);
    }

    /// <summary>The end of a chunked body (just past its final <c>0</c> chunk), or -1 when it has not all arrived.</summary>
    private static int IndexOfLastChunk(ReadOnlySpan<byte> body)
    {
        // Walks the chunk sizes, so that "0\r\n\r\n" inside a chunk's data cannot end the body early.
        var position = 0;
        while (true)
        {
            var lineEnd = body[position..].IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                return -1;
            }

            var sizeText = body.Slice(position, lineEnd);
            var semicolon = sizeText.IndexOf((byte)';');
            if (semicolon >= 0)
            {
                sizeText = sizeText[..semicolon];
            }

            if (!Utf8Parser.TryParse(sizeText, out int size, out _, 'x'))
            {
                throw new InvalidDataException("Bad chunk size.");
            }

            position += lineEnd + 2;
            if (size == 0)
            {
                // No trailers: the empty line that ends the body.
                return body.Length - position >= 2 ? position + 2 : -1;
            }

            if (body.Length - position < size + 2)
            {
                return -1;
            }

            position += size + 2;
        }
    }

    /// <summary>Whether the JSON body asks for a stream: <c>"stream"</c>, optional spaces, a colon, then <c>true</c>.</summary>
    private static bool IsStreamRequest(ReadOnlySpan<byte> body)
    {
        var key = body.IndexOf("\"stream\""u8);
        if (key < 0)
        {
            return false;
        }

        var rest = body[(key + 8)..].TrimStart(" \t\r\n"u8);
        if (rest.IsEmpty || rest[0] != (byte)':')
        {
            return false;
        }

        return rest[1..].TrimStart(" \t\r\n"u8).StartsWith("true"u8);
    }
}

/// <summary>The calling thread's CPU time (Linux and other POSIX systems: <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>).</summary>
internal static class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    public static long Nanoseconds() =>
        OperatingSystem.IsWindows() || ClockGetTime(ClockThreadCpuTimeId, out var time) != 0 ? 0 : (time.Seconds * 1_000_000_000) + time.Nanoseconds;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    private static extern int ClockGetTime(int clockId, out TimeSpec time);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
