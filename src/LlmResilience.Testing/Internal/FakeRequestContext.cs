using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace LlmResilience.Testing;

/// <summary>Everything a behavior needs to answer one request.</summary>
internal sealed class FakeRequestContext(
    HttpContext httpContext,
    ChatRequestInfo request,
    FakeLlmServerOptions options,
    ConnectionState? connection,
    long startTimestamp,
    CancellationToken cancellationToken)
{
    public HttpContext HttpContext { get; } = httpContext;

    public HttpResponse Response => HttpContext.Response;

    public ChatRequestInfo Request { get; } = request;

    public FakeLlmServerOptions Options { get; } = options;

    /// <summary>Gets the state of the request's TCP connection.</summary>
    public ConnectionState? Connection { get; } = connection;

    /// <summary>Gets a token cancelled when the client goes away or the server is disposed.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    public CompletionIdentity NewIdentity() =>
        new(Ids.NewCompletionId(), Options.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), Options.Model);

    /// <summary>Whether the request is <c>GET …/models</c>, the list of models (which health checks call: it costs no tokens).</summary>
    public bool IsModelList => HttpMethods.IsGet(HttpContext.Request.Method)
        && (HttpContext.Request.Path.Value?.EndsWith("/models", StringComparison.Ordinal) ?? false);

    public TokenUsage UsageFor(string content) => new(Request.PromptTokens, ContentPieces.CountWords(content));

    /// <summary>Waits on real time (the peer is a real socket), cancelled with the request.</summary>
    public Task DelayAsync(TimeSpan delay) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, CancellationToken) : Task.CompletedTask;

    /// <summary>The headers the API puts on every answer, errors included; proxies in front of it do not send them.</summary>
    public void SetOpenAiHeaders()
    {
        var headers = Response.Headers;
        headers["x-request-id"] = Ids.NewRequestId();
        headers["openai-processing-ms"] = Math.Max(1, (long)Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds)
            .ToString(CultureInfo.InvariantCulture);
        headers["openai-version"] = FakeLlmServerConstants.OpenAiVersion;
    }

    /// <summary>Writes a complete response with a <c>Content-Length</c>.</summary>
    public async Task WriteResponseAsync(CannedResponse response)
    {
        Response.StatusCode = response.StatusCode;
        if (response.OpenAiHeaders)
        {
            SetOpenAiHeaders();
        }

        if (response.Headers is not null)
        {
            foreach (var (name, value) in response.Headers)
            {
                Response.Headers[name] = value;
            }
        }

        Response.ContentType = response.ContentType;
        Response.ContentLength = response.Body.Length;
        await Response.Body.WriteAsync(response.Body, CancellationToken).ConfigureAwait(false);
    }
}
