using System.Net;
using System.Text;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Failures;

public sealed class LlmFailuresTests
{
    private const string OpenAiError = """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""";

    [Theory]
    // A JSON error in the API's format is the API's own answer, whatever proxy carried it (api.openai.com is behind Cloudflare).
    [InlineData(503, "cloudflare", OpenAiError, LlmFailureKind.ServerError)]
    [InlineData(502, "cloudflare", OpenAiError, LlmFailureKind.ServerError)]
    [InlineData(500, "cloudflare", OpenAiError, LlmFailureKind.ServerError)]
    [InlineData(502, "cloudflare", "<html><head><title>502 Bad Gateway</title></head></html>", LlmFailureKind.ProxyUpstreamFailure)]
    [InlineData(503, "envoy", "upstream connect error or disconnect/reset before headers. reset reason: connection failure", LlmFailureKind.ProxyUpstreamFailure)]
    [InlineData(504, "nginx", "", LlmFailureKind.ProxyUpstreamFailure)]
    [InlineData(524, "cloudflare", "<html><title>A timeout occurred</title></html>", LlmFailureKind.ProxyUpstreamFailure)]
    [InlineData(503, null, """{"detail":"model is loading"}""", LlmFailureKind.ServerError)]
    [InlineData(429, "cloudflare", """{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}""", LlmFailureKind.QuotaExceeded)]
    [InlineData(429, null, """{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}""", LlmFailureKind.RateLimited)]
    [InlineData(409, null, """{"error":{"message":"conflict"}}""", LlmFailureKind.BadRequest)]
    [InlineData(400, null, """{"error":{"message":"This model's maximum context length is 8192 tokens.","code":null}}""", LlmFailureKind.ContextLengthExceeded)]
    [InlineData(401, null, """{"error":{"message":"bad key","code":"401"}}""", LlmFailureKind.Unauthorized)]
    public void FromResponse_StatusServerAndBody_Classify(int status, string? server, string body, LlmFailureKind expected)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        if (server is not null)
        {
            response.Headers.TryAddWithoutValidation("Server", server);
        }

        var failure = LlmFailures.FromResponse(response, Encoding.UTF8.GetBytes(body), DateTimeOffset.UnixEpoch, secret: null);

        Assert.Equal(expected, failure.Kind);
        Assert.Equal(status, failure.StatusCode);
        Assert.Equal(server, failure.Server);
    }

    [Fact]
    public void FromResponse_CodeThatRepeatsTheStatus_IsNotRepeatedInTheReason()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);

        var failure = LlmFailures.FromResponse(response, """{"error":{"message":"Access denied","code":"401"}}"""u8, DateTimeOffset.UnixEpoch, null);

        Assert.Equal("HTTP 401", failure.Reason);
        Assert.False(failure.Retryable);
    }

    [Fact]
    public void FromResponse_ServerEchoesTheKey_ItIsScrubbed()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized);

        var failure = LlmFailures.FromResponse(response, Encoding.UTF8.GetBytes("""{"error":{"message":"Incorrect API key provided: sk-abc123."}}"""), DateTimeOffset.UnixEpoch, "sk-abc123");

        Assert.Equal("Incorrect API key provided: [redacted].", failure.ServerSaid);
    }

    [Fact]
    public async Task CompleteAsync_OpenAi503ThroughCloudflare_IsServerErrorOverARealSocket()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(503, OpenAiError, new Dictionary<string, string> { ["Server"] = "cloudflare" }), 2);
        using var client = TestClients.Chat(server, o => o.MaxRetryAttempts = 1);

        var error = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ServerError, error.Kind);
        Assert.Equal(2, error.Attempts);
        Assert.Contains("The server had an error", error.Message);
        Assert.Equal(2, server.Requests.Count);
    }
}
