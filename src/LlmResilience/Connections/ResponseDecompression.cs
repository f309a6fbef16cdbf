using System.IO.Compression;
using System.Net;

namespace LlmResilience;

/// <summary>
/// gzip, deflate and Brotli for responses, done here rather than by <see cref="SocketsHttpHandler.AutomaticDecompression"/>:
/// that feature adds <c>Accept-Encoding</c> as parsed header objects on every request (about 600 bytes per call,
/// measured), while a raw header string costs a fraction of it and an uncompressed response costs nothing more.
/// </summary>
internal static class ResponseDecompression
{
    private const string AcceptEncoding = "Accept-Encoding";
    private const string AcceptedEncodings = "gzip, deflate, br";

    public static void AddAcceptEncoding(HttpRequestMessage request)
    {
        if (!request.Headers.NonValidated.Contains(AcceptEncoding))
        {
            request.Headers.TryAddWithoutValidation(AcceptEncoding, AcceptedEncodings);
        }
    }

    public static void DecodeIfCompressed(HttpResponseMessage response)
    {
        var content = response.Content;
        if (!content.Headers.NonValidated.TryGetValues("Content-Encoding", out var values))
        {
            return;
        }

        var encoding = values.ToString().Trim();
        Func<Stream, Stream>? decoder = encoding switch
        {
            _ when encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) => static s => new GZipStream(s, CompressionMode.Decompress),
            _ when encoding.Equals("br", StringComparison.OrdinalIgnoreCase) => static s => new BrotliStream(s, CompressionMode.Decompress),
            _ when encoding.Equals("deflate", StringComparison.OrdinalIgnoreCase) => static s => new ZLibStream(s, CompressionMode.Decompress),
            _ => null,
        };
        if (decoder is not null)
        {
            response.Content = new DecompressedContent(content, decoder);
        }
    }

    private sealed class DecompressedContent : HttpContent
    {
        private readonly HttpContent _original;
        private readonly Func<Stream, Stream> _decoder;

        public DecompressedContent(HttpContent original, Func<Stream, Stream> decoder)
        {
            _original = original;
            _decoder = decoder;
            // The body is no longer encoded, and its length is no longer known.
            ContentHeaders.Copy(original, this, except: "Content-Encoding", alsoExcept: "Content-Length");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var decoded = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (decoded.ConfigureAwait(false))
            {
                await decoded.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            _decoder(await _original.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => _decoder(_original.ReadAsStream(cancellationToken));

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _original.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
