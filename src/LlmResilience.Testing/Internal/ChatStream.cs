using System.Net.Sockets;
using System.Text;

namespace LlmResilience.Testing;

/// <summary>
/// Writes one chat-completion SSE stream event by event, flushing after each so the client sees every event as it is
/// written: <c>data: {json}\n\n</c> events, ended by <c>data: [DONE]\n\n</c>.
/// </summary>
internal sealed class ChatStream
{
    private readonly FakeRequestContext _context;
    private readonly Func<byte[], Task> _send;
    private readonly CompletionIdentity _identity;
    private readonly bool _includeUsage;
    private readonly StringBuilder _content = new();
    private bool _roleSent;

    private ChatStream(FakeRequestContext context, bool includeUsage, Func<byte[], Task> send)
    {
        _context = context;
        _send = send;
        _identity = context.NewIdentity();
        _includeUsage = includeUsage;
    }

    /// <summary>Sends the status line and headers through Kestrel (chunked, no <c>Content-Length</c>) and flushes them.</summary>
    public static async Task<ChatStream> StartAsync(FakeRequestContext context, bool includeUsage)
    {
        var response = context.Response;
        SetHeaders(context);
        await response.StartAsync(context.CancellationToken).ConfigureAwait(false);
        var writer = response.BodyWriter;
        var stream = new ChatStream(context, includeUsage, async bytes =>
        {
            var result = await writer.WriteAsync(bytes, context.CancellationToken).ConfigureAwait(false);
            if (result.IsCanceled || result.IsCompleted)
            {
                // Kestrel completes the writer when the client has gone: stop as a cancelled request would.
                throw new OperationCanceledException("The client is gone.", context.CancellationToken);
            }
        });
        await writer.FlushAsync(context.CancellationToken).ConfigureAwait(false);
        return stream;
    }

    /// <summary>
    /// Sends the same response as <see cref="StartAsync"/>, but straight into the socket, for a stream that ends in an RST.
    /// </summary>
    /// <remarks>
    /// Kestrel's flush only hands bytes to its transport, whose send loop writes them to the socket later; an RST sent
    /// before that loop ran would lose events the client should have read (a zero-linger close discards unsent data).
    /// Written here, each event is in the kernel, and on its way over loopback, before the next step runs.
    /// </remarks>
    public static async Task<ChatStream> StartOnSocketAsync(FakeRequestContext context, bool includeUsage, Socket socket)
    {
        SetHeaders(context);
        var head = new StringBuilder("HTTP/1.1 200 OK\r\n");
        foreach (var (name, values) in context.Response.Headers)
        {
            foreach (var value in values)
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        head.Append("Date: ").Append(context.Options.TimeProvider.GetUtcNow().ToString("r", System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n");
        head.Append("Transfer-Encoding: chunked\r\n\r\n");
        var cancellationToken = context.CancellationToken;
        await SendAllAsync(socket, Encoding.ASCII.GetBytes(head.ToString()), cancellationToken).ConfigureAwait(false);
        return new ChatStream(context, includeUsage, bytes => SendAllAsync(socket, Chunk(bytes), cancellationToken));
    }

    /// <summary>Sends the full sequence of a successful stream: role, content deltas, finish, usage if asked, <c>[DONE]</c>.</summary>
    public static async Task WriteCompletionAsync(FakeRequestContext context, IReadOnlyList<string> deltas, TimeSpan interval, bool includeUsage)
    {
        var stream = await StartAsync(context, includeUsage).ConfigureAwait(false);
        await stream.WriteRoleAsync(string.Empty).ConfigureAwait(false);
        foreach (var delta in deltas)
        {
            await context.DelayAsync(interval).ConfigureAwait(false);
            await stream.WriteContentAsync(delta).ConfigureAwait(false);
        }

        await context.DelayAsync(interval).ConfigureAwait(false);
        await stream.WriteFinishAsync().ConfigureAwait(false);
        await stream.WriteDoneAsync().ConfigureAwait(false);
    }

    /// <summary>The first chunk of a stream: <c>{"role":"assistant","content":…,"refusal":null}</c>.</summary>
    public Task WriteRoleAsync(string content)
    {
        _roleSent = true;
        _content.Append(content);
        return WriteDataAsync(ChatCompletionJson.Chunk(_identity, "assistant", content, null, _includeUsage));
    }

    /// <summary>A content delta; the first chunk of a stream also carries the role.</summary>
    public Task WriteContentAsync(string content)
    {
        if (!_roleSent)
        {
            return WriteRoleAsync(content);
        }

        _content.Append(content);
        return WriteDataAsync(ChatCompletionJson.Chunk(_identity, null, content, null, _includeUsage));
    }

    /// <summary>
    /// A fragment of tool call <paramref name="index"/>: the first one (with <paramref name="id"/> and <paramref name="name"/>)
    /// also carries the role on a stream's first chunk, as OpenAI sends it.
    /// </summary>
    public Task WriteToolCallAsync(int index, string? id, string? name, string arguments)
    {
        var role = _roleSent ? null : "assistant";
        _roleSent = true;
        return WriteDataAsync(ChatCompletionJson.ToolCallChunk(_identity, role, index, id, name, arguments, _includeUsage));
    }

    /// <summary>The chunk with an empty delta and the finish reason (<c>"stop"</c> unless told), then the usage chunk if the stream asked for it.</summary>
    public async Task WriteFinishAsync(string finishReason = "stop")
    {
        await WriteDataAsync(ChatCompletionJson.Chunk(_identity, null, null, finishReason, _includeUsage)).ConfigureAwait(false);
        if (_includeUsage)
        {
            await WriteDataAsync(ChatCompletionJson.UsageChunk(_identity, _context.UsageFor(_content.ToString()))).ConfigureAwait(false);
        }
    }

    public Task WriteDoneAsync() => _send("data: [DONE]\n\n"u8.ToArray());

    /// <summary>An SSE comment line, which clients skip: <c>: keep-alive\n\n</c>.</summary>
    public Task WriteCommentAsync(string comment) => _send(Encoding.UTF8.GetBytes($": {comment}\n\n"));

    /// <summary>A <c>data:</c> event with any payload, JSON or not.</summary>
    public Task WriteDataAsync(byte[] payload) => _send([.. "data: "u8, .. payload, .. "\n\n"u8]);

    private static void SetHeaders(FakeRequestContext context)
    {
        context.Response.StatusCode = 200;
        context.SetOpenAiHeaders();
        context.Response.ContentType = FakeLlmServerConstants.EventStreamContentType;
    }

    /// <summary>One HTTP/1.1 chunk: the size in hex, CRLF, the bytes, CRLF.</summary>
    private static byte[] Chunk(byte[] bytes) =>
        [.. Encoding.ASCII.GetBytes($"{bytes.Length:x}\r\n"), .. bytes, .. "\r\n"u8];

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }
}
