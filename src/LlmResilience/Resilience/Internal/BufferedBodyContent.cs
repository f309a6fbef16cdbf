using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;

namespace LlmResilience;

/// <summary>
/// A non-streamed response body read whole inside its attempt, into a buffer rented from <see cref="ArrayPool{T}"/>:
/// a body that breaks, stalls past the attempt's timeout or exceeds <see cref="LlmResilienceOptions.MaxResponseBytes"/>
/// fails the attempt (and is retried like any), never the caller's parse. Disposing the content returns the buffer.
/// </summary>
/// <remarks>
/// Cheaper than <see cref="HttpContent.LoadIntoBufferAsync(long, CancellationToken)"/> on the hot path (measured about
/// 500 bytes less per call), and the original content's headers come along as raw strings.
/// </remarks>
internal sealed class BufferedBodyContent : HttpContent
{
    private const int InitialUnknownLengthBuffer = 16 * 1024;

    private byte[]? _buffer;
    private readonly int _length;

    private BufferedBodyContent(byte[] buffer, int length, HttpContent original)
    {
        _buffer = buffer;
        _length = length;
        // The length is this buffer's (TryComputeLength); a decoded body's may differ from the header's.
        ContentHeaders.Copy(original, this, except: "Content-Length");
    }

    /// <summary>The body; valid until the content is disposed.</summary>
    public ReadOnlySpan<byte> Bytes => Buffer().AsSpan(0, _length);

    /// <summary>The declared Content-Length (or a length the content knows), or <see langword="null"/>.</summary>
    /// <remarks>
    /// Through the typed property: SocketsHttpHandler has already parsed the header to frame the body, so this is a
    /// lookup, whereas the raw (non-validated) view formats the stored number back into a string, which a profile put
    /// at about 0.3 µs per call.
    /// </remarks>
    public static long? DeclaredLength(HttpContent content) => content.Headers.ContentLength;

    /// <summary>Reads <paramref name="response"/>'s body whole and puts it back as a buffered content.</summary>
    /// <param name="response">The response whose content is replaced.</param>
    /// <param name="declaredLength">The body's <see cref="DeclaredLength"/>, read once by the caller; it sizes the buffer.</param>
    /// <param name="maxBytes">The most bytes the body may have.</param>
    /// <param name="cancellationToken">The attempt's token: its timeout covers the body.</param>
    /// <returns><see langword="false"/> when the body is longer than <paramref name="maxBytes"/> (nothing is replaced).</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> BufferAsync(HttpResponseMessage response, long? declaredLength, long maxBytes, CancellationToken cancellationToken)
    {
        var original = response.Content;
        var stream = await original.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        // One spare byte past a declared length lets the last read see the end without growing the buffer.
        var buffer = ArrayPool<byte>.Shared.Rent(declaredLength is { } known && known < maxBytes ? (int)known + 1 : (int)Math.Min(maxBytes + 1, InitialUnknownLengthBuffer));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= Array.MaxLength)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return false;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(maxBytes + 1, Array.MaxLength), (long)buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read;
                try
                {
                    read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                }
                catch (IOException exception)
                {
                    // The same shape LoadIntoBufferAsync gives a broken body, so it is classified (and retried) alike.
                    throw new HttpRequestException((exception as HttpIOException)?.HttpRequestError ?? HttpRequestError.Unknown,
                        "The connection broke while the response body was being read.", exception);
                }

                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > maxBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return false;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        response.Content = new BufferedBodyContent(buffer, length, original);
        original.Dispose();
        return true;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(Buffer(), 0, _length, cancellationToken);

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.Write(Buffer(), 0, _length);

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult(CreateContentReadStream(CancellationToken.None));

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        Task.FromResult(CreateContentReadStream(cancellationToken));

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) =>
        new MemoryStream(Buffer(), 0, _length, writable: false);

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        // The base disposes the read stream it handed out first, so no reader is left on a returned buffer.
        base.Dispose(disposing);
        if (disposing && Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private byte[] Buffer() => _buffer ?? throw new ObjectDisposedException(nameof(BufferedBodyContent));
}
