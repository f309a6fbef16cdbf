using System.Buffers;
using System.Net;

namespace LlmResilience;

/// <summary>
/// Inside an attempt, reads a streamed response until its first complete data event, so that a stream that stalls,
/// sends only keep-alive comments, or breaks before the caller has seen anything is still retried like any attempt.
/// Then it hands the response on with a <see cref="GuardedResponseStream"/> body that replays what was read.
/// </summary>
internal static class FirstEventReader
{
    private const int InitialBufferSize = 4096;

    public static async ValueTask ReadFirstEventAsync(HttpResponseMessage response, LlmResilienceOptions options, TimeProvider time,
        long attemptStartTimestamp, long deadlineTimestamp, Uri? endpoint, CancellationToken attemptToken)
    {
        var original = response.Content;
        var stream = await original.ReadAsStreamAsync(attemptToken).ConfigureAwait(false);
        var remaining = options.FirstTokenTimeout - time.GetElapsedTime(attemptStartTimestamp);
        using var firstTokenCts = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, time);
        using var link = attemptToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), firstTokenCts);

        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        var length = 0;
        var scanner = default(SseActivityScanner);
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length >= options.MaxResponseBytes)
                    {
                        throw new LlmException(LlmFailureKind.InvalidResponse,
                            $"The first event of the stream from {Endpoints.Describe(endpoint)} is larger than MaxResponseBytes ({options.MaxResponseBytes} bytes).");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read;
                try
                {
                    read = await stream.ReadAsync(buffer.AsMemory(length), firstTokenCts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (firstTokenCts.IsCancellationRequested && !attemptToken.IsCancellationRequested)
                {
                    throw new LlmException(LlmFailureKind.Timeout,
                        $"The stream from {Endpoints.Describe(endpoint)} sent no data event within FirstTokenTimeout ({options.FirstTokenTimeout}); keep-alive comments do not count.",
                        statusCode: HttpStatusCode.OK) { Stall = StreamStalls.FirstEvent };
                }

                if (read == 0)
                {
                    throw new LlmException(LlmFailureKind.ResetBeforeHeaders,
                        $"The stream from {Endpoints.Describe(endpoint)} ended before its first data event.", statusCode: HttpStatusCode.OK);
                }

                var completed = scanner.Scan(buffer.AsSpan(length, read), out _);
                length += read;
                if (completed)
                {
                    break;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var guarded = new GuardedResponseStream(stream, buffer, length, scanner, time, options.StreamIdleTimeout,
            deadlineTimestamp, options.TotalTimeout, endpoint);
        response.Content = new GuardedContent(guarded, original);
    }
}

/// <summary>A response body served from a <see cref="GuardedResponseStream"/>, keeping the original content headers.</summary>
internal sealed class GuardedContent : HttpContent
{
    private readonly Stream _stream;
    private readonly HttpContent _original;

    public GuardedContent(Stream stream, HttpContent original)
    {
        _stream = stream;
        _original = original;
        ContentHeaders.Copy(original, this);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        _stream.CopyToAsync(stream);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        _stream.CopyToAsync(stream, cancellationToken);

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult(_stream);

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => Task.FromResult(_stream);

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => _stream;

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stream.Dispose();
            _original.Dispose();
        }

        base.Dispose(disposing);
    }
}
