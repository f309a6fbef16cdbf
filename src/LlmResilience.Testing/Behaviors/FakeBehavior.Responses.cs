using System.Globalization;
using System.Text;

namespace LlmResilience.Testing;

/// <summary>The behaviors that answer with a complete HTTP response: successes, API errors and proxy error pages.</summary>
public abstract partial class FakeBehavior
{
    private const string TextHtml = "text/html";

    /// <summary>
    /// Answers with success: a JSON <c>chat.completion</c>, or, when the request has <c>"stream": true</c>, an SSE stream of
    /// the content split into word deltas (with a usage chunk when the request asked for <c>stream_options.include_usage</c>).
    /// A <c>GET</c> of <c>/v1/models</c> is answered with a <c>list</c> holding <see cref="FakeLlmServerOptions.Model"/>.
    /// </summary>
    /// <param name="content">The assistant's text; <see langword="null"/> uses <see cref="FakeLlmServerOptions.DefaultContent"/>.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior Ok(string? content = null) => new OkBehavior(content);

    /// <summary>
    /// Answers with an SSE stream of exactly these content deltas, whether or not the request asked to stream: a role chunk,
    /// one chunk per delta with <paramref name="interval"/> before each (and before the finish chunk), the finish chunk,
    /// a usage chunk when <paramref name="includeUsage"/> or the request asked for one, and <c>data: [DONE]</c>.
    /// </summary>
    /// <param name="contentDeltas">The content of each delta, in order.</param>
    /// <param name="interval">The pause before each delta and before the finish chunk; <see cref="TimeSpan.Zero"/> for none.</param>
    /// <param name="includeUsage">Whether to send the usage chunk even if the request did not ask for it.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior OkStream(IReadOnlyList<string> contentDeltas, TimeSpan interval = default, bool includeUsage = false)
    {
        ArgumentNullException.ThrowIfNull(contentDeltas);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        return new OkStreamBehavior([.. contentDeltas], interval, includeUsage);
    }

    /// <summary>
    /// Answers with success that calls tools (<c>"finish_reason":"tool_calls"</c>): a JSON completion whose message has
    /// <c>"content":null</c> and the calls, or, when the request has <c>"stream": true</c>, the calls in fragments as OpenAI
    /// streams them (each call's id, type and name first, then its arguments in two pieces), the finish chunk, a usage chunk
    /// when asked, and <c>data: [DONE]</c>.
    /// </summary>
    /// <param name="calls">The calls, in order; at least one. Several make a parallel tool call.</param>
    /// <returns>The behavior.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="calls"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="calls"/> is empty or holds a <see langword="null"/> call.</exception>
    public static FakeBehavior ToolCalls(params IReadOnlyList<FakeToolCall> calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        if (calls.Count == 0 || calls.Any(c => c is null))
        {
            throw new ArgumentException("Give at least one tool call, and no null ones.", nameof(calls));
        }

        return new ToolCallsBehavior([.. calls]);
    }

    /// <summary>Answers with any status, body and headers; the OpenAI headers are sent too (the given ones override them).</summary>
    /// <param name="statusCode">The HTTP status code.</param>
    /// <param name="body">The body text (UTF-8); <see langword="null"/> sends an empty body.</param>
    /// <param name="headers">Extra response headers.</param>
    /// <param name="contentType">The <c>Content-Type</c>.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior Status(int statusCode, string? body = null, IReadOnlyDictionary<string, string>? headers = null, string contentType = "application/json")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentNullException.ThrowIfNull(contentType);
        var bytes = Encoding.UTF8.GetBytes(body ?? string.Empty);
        var copy = Copy(headers);
        return new CannedResponseBehavior(
            "Status",
            string.Create(CultureInfo.InvariantCulture, $"Status({statusCode})"),
            _ => new CannedResponse(statusCode, contentType, bytes, copy));
    }

    /// <summary>
    /// Answers 429 with OpenAI's <c>rate_limit_exceeded</c> error and exactly the given headers (for example
    /// <c>retry-after-ms</c>, <c>Retry-After</c>, <c>x-ratelimit-reset-requests</c>, <c>x-ms-retry-after-ms</c>,
    /// <c>x-should-retry</c>); the message's "Please try again in …" agrees with <c>retry-after-ms</c> or <c>Retry-After</c>.
    /// </summary>
    /// <param name="headers">The rate-limit headers to send.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior RateLimited(IReadOnlyDictionary<string, string>? headers = null)
    {
        var copy = Copy(headers);
        return new CannedResponseBehavior(
            "RateLimited",
            copy is null ? "RateLimited" : $"RateLimited({string.Join(", ", copy.Select(h => $"{h.Key}: {h.Value}"))})",
            context => new CannedResponse(429, FakeLlmServerConstants.JsonContentType, OpenAiErrors.RateLimitExceeded(context.Options.Model, copy), copy));
    }

    /// <summary>Answers 429 with OpenAI's <c>insufficient_quota</c> error: a 429 that retrying does not cure.</summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior InsufficientQuota() => new CannedResponseBehavior(
        "InsufficientQuota",
        null,
        _ => new CannedResponse(429, FakeLlmServerConstants.JsonContentType, OpenAiErrors.InsufficientQuota()));

    /// <summary>Answers 400 with OpenAI's <c>context_length_exceeded</c> error (<c>invalid_request_error</c>, param <c>messages</c>).</summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior ContextLengthExceeded() => new CannedResponseBehavior(
        "ContextLengthExceeded",
        null,
        context => new CannedResponse(400, FakeLlmServerConstants.JsonContentType, OpenAiErrors.ContextLengthExceeded(context.Request.PromptTokens)));

    /// <summary>Answers 401 with OpenAI's <c>invalid_api_key</c> error, masking the key the request carried.</summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior Unauthorized() => UnauthorizedBehavior;

    /// <summary>Answers with OpenAI's <c>server_error</c> body.</summary>
    /// <param name="statusCode">A 5xx status code.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior ServerError(int statusCode = 500)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 500);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        var body = OpenAiErrors.ServerError(statusCode);
        return new CannedResponseBehavior(
            "ServerError",
            string.Create(CultureInfo.InvariantCulture, $"ServerError({statusCode})"),
            _ => new CannedResponse(statusCode, FakeLlmServerConstants.JsonContentType, body));
    }

    /// <summary>
    /// Answers as Envoy does when its upstream dropped the connection: 503, <c>text/plain</c>, <c>server: envoy</c>,
    /// <c>upstream connect error or disconnect/reset before headers. reset reason: connection termination</c>.
    /// No OpenAI headers: the request never reached the API.
    /// </summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior EnvoyUpstreamReset()
    {
        var body = Encoding.UTF8.GetBytes(ProxyPages.EnvoyUpstreamReset);
        return new CannedResponseBehavior(
            "EnvoyUpstreamReset",
            null,
            _ => new CannedResponse(503, "text/plain", body, new Dictionary<string, string> { ["server"] = "envoy" }, OpenAiHeaders: false));
    }

    /// <summary>Answers with nginx's own 502 page (<c>text/html</c>, <c>server: nginx</c>); no OpenAI headers.</summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior NginxBadGateway() => Nginx("NginxBadGateway", 502);

    /// <summary>Answers with nginx's own 504 page (<c>text/html</c>, <c>server: nginx</c>); no OpenAI headers.</summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior NginxGatewayTimeout() => Nginx("NginxGatewayTimeout", 504);

    /// <summary>
    /// Answers with a Cloudflare origin-error page: 520 to 524, <c>text/html; charset=UTF-8</c>, <c>server: cloudflare</c> and
    /// a <c>cf-ray</c> header; no OpenAI headers.
    /// </summary>
    /// <param name="statusCode">520 (unknown error), 521 (web server down), 522 (connection timed out), 523 (origin unreachable) or 524 (a timeout occurred).</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior CloudflareError(int statusCode = 524)
    {
        _ = ProxyPages.CloudflareTitle(statusCode);
        return new CannedResponseBehavior(
            "CloudflareError",
            string.Create(CultureInfo.InvariantCulture, $"CloudflareError({statusCode})"),
            context =>
            {
                var rayId = Ids.NewCloudflareRayId();
                var host = context.HttpContext.Request.Host.Host;
                var headers = new Dictionary<string, string> { ["server"] = "cloudflare", ["cf-ray"] = rayId };
                return new CannedResponse(statusCode, "text/html; charset=UTF-8", Encoding.UTF8.GetBytes(ProxyPages.Cloudflare(statusCode, host, rayId)), headers, OpenAiHeaders: false);
            });
    }

    /// <summary>Answers 200 <c>application/json</c> with a completion cut off in the middle: the body is not valid JSON.</summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior MalformedJson() => new CannedResponseBehavior(
        "MalformedJson",
        null,
        context =>
        {
            var content = context.Options.DefaultContent;
            var whole = ChatCompletionJson.Completion(context.NewIdentity(), content, context.UsageFor(content));
            return new CannedResponse(200, FakeLlmServerConstants.JsonContentType, whole[..(whole.Length / 2)]);
        });

    private static readonly FakeBehavior UnauthorizedBehavior = new CannedResponseBehavior(
        "Unauthorized",
        null,
        context => new CannedResponse(401, FakeLlmServerConstants.JsonContentType, OpenAiErrors.InvalidApiKey(BearerToken(context))));

    /// <summary>The key of an <c>Authorization: Bearer …</c> header, or <see langword="null"/>.</summary>
    internal static string? BearerToken(FakeRequestContext context) => BearerToken(context.HttpContext.Request);

    internal static string? BearerToken(Microsoft.AspNetCore.Http.HttpRequest request) =>
        RecordedHeaders.BearerToken(request.Headers.Authorization.ToString());

    private static FakeBehavior Nginx(string name, int statusCode)
    {
        var body = Encoding.UTF8.GetBytes(ProxyPages.Nginx(statusCode));
        return new CannedResponseBehavior(
            name,
            null,
            _ => new CannedResponse(statusCode, TextHtml, body, new Dictionary<string, string> { ["server"] = "nginx" }, OpenAiHeaders: false));
    }

    private static Dictionary<string, string>? Copy(IReadOnlyDictionary<string, string>? headers) =>
        headers is null ? null : new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase);
}
