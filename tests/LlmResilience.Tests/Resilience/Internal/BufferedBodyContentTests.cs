using System.Net;
using System.Text;

namespace LlmResilience.Tests.Resilience.Internal;

public sealed class BufferedBodyContentTests
{
    private static HttpResponseMessage Response(byte[] body, bool declareLength, Stream? stream = null, bool language = true)
    {
        var content = new StreamContent(stream ?? new MemoryStream(body));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
        if (language)
        {
            content.Headers.TryAddWithoutValidation("Content-Language", "en");
        }

        if (declareLength)
        {
            content.Headers.TryAddWithoutValidation("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    [Theory]
    [InlineData(0, true, true)]
    [InlineData(0, false, true)]
    [InlineData(700, true, true)]
    [InlineData(700, false, true)]
    [InlineData(700, true, false)] // only Content-Type and Content-Length: the usual pair, copied without enumerating
    [InlineData(700, false, false)]
    [InlineData(100_000, false, true)] // past the first unknown-length buffer: grows
    public async Task BufferAsync_AnyLength_KeepsTheBytesAndTheHeaders(int length, bool declareLength, bool language)
    {
        var body = Enumerable.Range(0, length).Select(i => (byte)(i % 251)).ToArray();
        using var response = Response(body, declareLength, language: language);

        Assert.True(await BufferedBodyContent.BufferAsync(response, BufferedBodyContent.DeclaredLength(response.Content), maxBytes: 1_000_000, CancellationToken.None));

        Assert.IsType<BufferedBodyContent>(response.Content);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync()); // replayable
        Assert.Equal(length, response.Content.Headers.ContentLength);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(language ? ["en"] : [], response.Content.Headers.ContentLanguage);
        Assert.Equal(language ? 3 : 2, response.Content.Headers.NonValidated.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BufferAsync_OverTheLimit_ReturnsFalse(bool declareLength)
    {
        using var response = Response(new byte[101], declareLength);

        Assert.False(await BufferedBodyContent.BufferAsync(response, BufferedBodyContent.DeclaredLength(response.Content), maxBytes: 100, CancellationToken.None));
    }

    [Fact]
    public async Task BufferAsync_BrokenStream_ThrowsHttpRequestExceptionAroundTheIOException()
    {
        using var response = Response([], declareLength: false, stream: new BrokenStream());

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => BufferedBodyContent.BufferAsync(response, BufferedBodyContent.DeclaredLength(response.Content), 1000, CancellationToken.None).AsTask());

        Assert.IsType<IOException>(error.InnerException);
        Assert.Equal((LlmFailureKind.ResetBeforeHeaders, true), TransportFailures.Classify(error));
    }

    [Fact]
    public async Task Dispose_StreamHandedOut_CannotBeReadAfterwards()
    {
        using var response = Response(Encoding.UTF8.GetBytes("{}"), declareLength: true);
        await BufferedBodyContent.BufferAsync(response, BufferedBodyContent.DeclaredLength(response.Content), 1000, CancellationToken.None);
        var stream = await response.Content.ReadAsStreamAsync();

        response.Content.Dispose();

        Assert.Throws<ObjectDisposedException>(() => stream.ReadByte());
    }

    private sealed class BrokenStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(new IOException("connection reset"));
    }
}
