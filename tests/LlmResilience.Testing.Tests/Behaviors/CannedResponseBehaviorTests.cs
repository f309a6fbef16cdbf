using System.Text.Json;

namespace LlmResilience.Testing.Tests;

public sealed class CannedResponseBehaviorTests
{
    [Fact]
    public async Task Status_StatusBodyHeadersAndContentType_AreSentAsGiven()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(418, "short and stout", new Dictionary<string, string> { ["x-custom"] = "yes" }, "text/plain"));

        var (response, body) = await SendAsync(server);

        Assert.Equal(418, (int)response.StatusCode);
        Assert.Equal("short and stout", body);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("yes", RawClient.Header(response, "x-custom"));
        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        Assert.Equal("Status", Assert.Single(server.Requests).BehaviorName);
    }

    [Fact]
    public async Task Status_NullBody_SendsAnEmptyBody()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(204));

        var (response, body) = await SendAsync(server);

        Assert.Equal(204, (int)response.StatusCode);
        Assert.Empty(body);
    }

    [Fact]
    public async Task RateLimited_Headers_Sends429WithOpenAiBodyAndEveryHeader()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var hints = new Dictionary<string, string>
        {
            ["retry-after-ms"] = "25",
            ["Retry-After"] = "1",
            ["x-ratelimit-reset-requests"] = "6m0s",
            ["x-ratelimit-remaining-requests"] = "0",
            ["x-ms-retry-after-ms"] = "25",
            ["x-should-retry"] = "true",
        };
        server.Enqueue(FakeBehavior.RateLimited(hints));

        var (response, body) = await SendAsync(server);

        Assert.Equal(429, (int)response.StatusCode);
        foreach (var (name, value) in hints)
        {
            Assert.Equal(value, RawClient.Header(response, name));
        }

        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        var error = Error(body);
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Contains("Rate limit reached for fake-model", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("Please try again in 25ms.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("RateLimited", Assert.Single(server.Requests).BehaviorName);
    }

    [Fact]
    public async Task RateLimited_NoHeaders_SendsNoRetryHints()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited());

        var (response, _) = await SendAsync(server);

        Assert.Equal(429, (int)response.StatusCode);
        Assert.False(RawClient.HasHeader(response, "retry-after"));
        Assert.False(RawClient.HasHeader(response, "retry-after-ms"));
    }

    [Fact]
    public async Task InsufficientQuota_Returns429WithTheRealBody()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.InsufficientQuota());

        var (response, body) = await SendAsync(server);

        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal(
            """{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""",
            body);
    }

    [Fact]
    public async Task ContextLengthExceeded_Returns400WithMessagesParam()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ContextLengthExceeded());

        var (response, body) = await SendAsync(server);

        Assert.Equal(400, (int)response.StatusCode);
        var error = Error(body);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.StartsWith("This model's maximum context length is 128000 tokens.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unauthorized_Returns401InvalidApiKeyWithTheKeyMasked()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Unauthorized());

        var (response, body) = await SendAsync(server);

        Assert.Equal(401, (int)response.StatusCode);
        var error = Error(body);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.StartsWith("Incorrect API key provided: sk-*********1234.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500, "The server had an error while processing your request. Sorry about that!")]
    [InlineData(503, "The server is overloaded or not ready yet.")]
    public async Task ServerError_StatusCode_ReturnsServerErrorBody(int statusCode, string message)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ServerError(statusCode));

        var (response, body) = await SendAsync(server);

        Assert.Equal(statusCode, (int)response.StatusCode);
        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        var error = Error(body);
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("code").ValueKind);
    }

    [Fact]
    public async Task EnvoyUpstreamReset_Returns503PlainTextFromEnvoyWithoutRequestId()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.EnvoyUpstreamReset());

        var (response, body) = await SendAsync(server);

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("envoy", RawClient.Header(response, "server"));
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: connection termination", body);
        Assert.False(RawClient.HasHeader(response, "x-request-id"));
        Assert.False(RawClient.HasHeader(response, "openai-processing-ms"));
    }

    [Theory]
    [InlineData(502, "502 Bad Gateway")]
    [InlineData(504, "504 Gateway Time-out")]
    public async Task Nginx_Error_ReturnsNginxOwnPage(int statusCode, string title)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(statusCode == 502 ? FakeBehavior.NginxBadGateway() : FakeBehavior.NginxGatewayTimeout());

        var (response, body) = await SendAsync(server);

        Assert.Equal(statusCode, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nginx", RawClient.Header(response, "server"));
        Assert.Equal(
            $"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
            body);
        Assert.False(RawClient.HasHeader(response, "x-request-id"));
    }

    [Fact]
    public async Task CloudflareError_524_ReturnsCloudflarePageWithRayId()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.CloudflareError());

        var (response, body) = await SendAsync(server);

        Assert.Equal(524, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("cloudflare", RawClient.Header(response, "server"));
        Assert.Matches("^[0-9a-f]{16}-SJC$", RawClient.Header(response, "cf-ray"));
        Assert.Contains("<title>127.0.0.1 | 524: A timeout occurred</title>", body, StringComparison.Ordinal);
        Assert.Contains("Error code 524", body, StringComparison.Ordinal);
        Assert.False(RawClient.HasHeader(response, "x-request-id"));
        Assert.Equal("CloudflareError", Assert.Single(server.Requests).BehaviorName);
    }

    [Theory]
    [InlineData(519)]
    [InlineData(525)]
    public void CloudflareError_OutsideRange_Throws(int statusCode)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.CloudflareError(statusCode));
    }

    [Fact]
    public async Task MalformedJson_Returns200WithTruncatedJson()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.MalformedJson());

        var (response, body) = await SendAsync(server);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("{\"id\":\"chatcmpl-", body, StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(body));
        Assert.Equal("MalformedJson", Assert.Single(server.Requests).BehaviorName);
    }

    private static async Task<(HttpResponseMessage Response, string Body)> SendAsync(FakeLlmServer server)
    {
        using var client = RawClient.Create();
        var response = await RawClient.PostAsync(client, server);
        return (response, await response.Content.ReadAsStringAsync());
    }

    private static JsonElement Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error");
}
