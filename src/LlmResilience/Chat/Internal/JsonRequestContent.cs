using System.Buffers;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// A JSON request body serialized once into a pooled buffer: every retry sends the same bytes, nothing is
/// re-serialized, and the buffer goes back to the pool when the request is disposed.
/// </summary>
internal sealed class JsonRequestContent : HttpContent, IReplayableContent
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private byte[]? _buffer;
    private readonly int _length;

    private JsonRequestContent(byte[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
        Headers.TryAddWithoutValidation("Content-Type", "application/json");
    }

    /// <summary>Serializes a chat request (<see cref="ChatCompletionRequestWriter"/>, the contract of <paramref name="options"/>).</summary>
    public static JsonRequestContent Create(ChatCompletionRequest request, string? model, bool stream, JsonSerializerOptions options)
    {
        // The writer and its scratch buffer are reused per thread; only the exact-size pooled copy outlives this call.
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(4096);
        scratch.ResetWrittenCount();
        var writer = t_writer;
        if (writer is null)
        {
            // A writer's own options decide escaping (the serializer options' encoder applies only when the serializer
            // creates the writer), so the relaxed encoder is set here: quotes, '+' and non-ASCII text stay as they are.
            writer = t_writer = new Utf8JsonWriter(scratch, new JsonWriterOptions
            {
                Encoder = options.Encoder ?? JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
                SkipValidation = true,
            });
        }
        else
        {
            writer.Reset(scratch);
        }

        ChatCompletionRequestWriter.Write(writer, request, model, stream, options);
        writer.Flush();
        var buffer = ArrayPool<byte>.Shared.Rent(scratch.WrittenCount);
        scratch.WrittenSpan.CopyTo(buffer);
        if (scratch.Capacity > 1024 * 1024)
        {
            // One huge request must not pin a huge buffer to this thread forever.
            t_scratch = null;
            t_writer = null;
        }

        return new JsonRequestContent(buffer, scratch.WrittenCount);
    }

    /// <summary>The serialized body, for a token estimate (empty once disposed).</summary>
    internal ReadOnlySpan<byte> Bytes => _buffer is { } buffer ? buffer.AsSpan(0, _length) : default;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(JsonRequestContent));
        return stream.WriteAsync(buffer.AsMemory(0, _length), cancellationToken).AsTask();
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(JsonRequestContent));
        stream.Write(buffer, 0, _length);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        base.Dispose(disposing);
    }
}
