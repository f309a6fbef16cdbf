using System.Globalization;
using System.Net;
using LlmResilience.Tests.Helpers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace LlmResilience.Tests.WireMock;

/// <summary>
/// The retry and classification rules against WireMock.Net, an HTTP server nobody here wrote, so a misreading of the
/// wire shared by our client and our FakeLlmServer cannot hide. What the caller saw (answer or LlmException kind) and
/// what WireMock logged (how many requests) are asserted for each rule.
/// </summary>
public sealed class WireMockRetryRulesTests : IDisposable
{
    private const string Path = "/v1/chat/completions";
    private const string Scenario = "flaky";

    private static readonly string Completion = """
        {"id":"chatcmpl-wm","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",
        "choices":[{"index":0,"message":{"role":"assistant","content":"Hello from WireMock."},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}
        """;

    private readonly WireMockServer _server = WireMockServer.Start();

    private Uri BaseAddress => new($"http://127.0.0.1:{_server.Port}/v1/");

    private int Requests => _server.LogEntries.Count();

    public void Dispose() => _server.Stop();

    [Theory]
    [InlineData(408)]
    [InlineData(409)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    [InlineData(520)]
    [InlineData(524)]
    public async Task RetriedStatus_FailsTwiceThenSucceeds_CallerGetsTheAnswer(int status)
    {
        FailTwiceThenSucceed(Error(status, "server_error"));
        using var client = Client();

        var answer = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("Hello from WireMock.", answer.Content);
        Assert.Equal(3, Requests);
    }

    [Theory]
    [InlineData(400, LlmFailureKind.BadRequest)]
    [InlineData(401, LlmFailureKind.Unauthorized)]
    [InlineData(403, LlmFailureKind.Unauthorized)]
    [InlineData(404, LlmFailureKind.BadRequest)]
    [InlineData(422, LlmFailureKind.BadRequest)]
    public async Task NotRetriedStatus_FailsAtOnceWithItsKind(int status, LlmFailureKind kind)
    {
        Always(Error(status, "invalid_request_error"));
        using var client = Client();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(kind, failure.Kind);
        Assert.Equal(status, (int)failure.StatusCode!);
        Assert.Equal(1, Requests);
    }

    [Fact]
    public async Task RetriedStatus_EveryAttemptFails_GivesUpAfterFiveAttemptsAsServerError()
    {
        Always(Error(503, "server_error"));
        using var client = Client();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ServerError, failure.Kind);
        Assert.Equal(5, failure.Attempts);
        Assert.Equal(5, Requests);
    }

    [Fact]
    public async Task InsufficientQuota_IsNotRetried()
    {
        Always(Response.Create().WithStatusCode(429).WithHeader("Content-Type", "application/json")
            .WithBody("""{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"""));
        using var client = Client();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.QuotaExceeded, failure.Kind);
        Assert.Equal(1, Requests);
    }

    [Fact]
    public async Task ShouldRetryFalse_OnA503_IsNotRetried()
    {
        Always(Error(503, "server_error").WithHeader("x-should-retry", "false"));
        using var client = Client();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ServerError, failure.Kind);
        Assert.Equal(1, Requests);
    }

    [Fact]
    public async Task ShouldRetryTrue_OnA400_IsRetried()
    {
        FailTwiceThenSucceed(Error(400, "invalid_request_error").WithHeader("x-should-retry", "true"));
        using var client = Client();

        var answer = await client.CompleteAsync(TestClients.Hello());

        Assert.Equal("Hello from WireMock.", answer.Content);
        Assert.Equal(3, Requests);
    }

    [Theory]
    [InlineData("retry-after-ms", "150")]
    [InlineData("x-ms-retry-after-ms", "150")]
    public async Task MillisecondHint_WaitsThatLongBeforeTheNextAttempt(string header, string value)
    {
        FailTwiceThenSucceed(Error(429, "rate_limit_exceeded").WithHeader(header, value));
        using var client = Client(o => o.BaseDelay = o.MaxDelay = TimeSpan.FromMilliseconds(1));

        await client.CompleteAsync(TestClients.Hello());

        var times = _server.LogEntries.Select(e => e.RequestMessage.DateTime).Order().ToList();
        Assert.Equal(3, times.Count);
        Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(140), $"Waited {(times[1] - times[0]).TotalMilliseconds} ms.");
    }

    // Hints too long to wait out in a test: each must be read (the call fails at once with RetryAfter set, as MaxRetryAfter
    // says), not ignored (which would retry after the backoff).
    public static TheoryData<string, string, int> LongHints() => new()
    {
        { "retry-after-ms", "90000", 90 },
        { "x-ms-retry-after-ms", "90000", 90 },
        { "Retry-After", "90", 90 },
        { "Retry-After", "date", 600 },
        { "x-ratelimit-reset-requests", "6m0s", 360 },
        { "x-ratelimit-reset-tokens", "2m30s", 150 },
    };

    [Theory]
    [MemberData(nameof(LongHints))]
    public async Task HintAboveMaxRetryAfter_FailsAtOnceWithRetryAfter(string header, string value, int seconds)
    {
        var response = Error(429, "rate_limit_exceeded")
            .WithHeader(header, value == "date" ? DateTimeOffset.UtcNow.AddSeconds(seconds).ToString("r", CultureInfo.InvariantCulture) : value);
        if (header.StartsWith("x-ratelimit-reset-", StringComparison.Ordinal))
        {
            response = response.WithHeader(header.Replace("reset", "remaining", StringComparison.Ordinal), "0");
        }

        Always(response);
        using var client = Client();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.RateLimited, failure.Kind);
        Assert.InRange(failure.RetryAfter!.Value.TotalSeconds, seconds - 5, seconds);
        Assert.Equal(1, Requests);
    }

    [Theory]
    [InlineData("retry-after-ms", "-100")]
    [InlineData("Retry-After", "tomorrow")]
    [InlineData("x-ms-retry-after-ms", "abc")]
    public async Task GarbageHint_FallsBackToTheBackoffAndRetries(string header, string value)
    {
        FailTwiceThenSucceed(Error(429, "rate_limit_exceeded").WithHeader(header, value));
        using var client = Client();

        Assert.Equal("Hello from WireMock.", (await client.CompleteAsync(TestClients.Hello())).Content);
        Assert.Equal(3, Requests);
    }

    [Theory]
    [InlineData("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assis", "application/json")]
    [InlineData("<html><body>Portal login</body></html>", "text/html")]
    [InlineData("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\"}", "application/json")]
    public async Task MalformedSuccessBody_IsInvalidResponseAndNotRetried(string body, string contentType)
    {
        Always(Response.Create().WithStatusCode(200).WithHeader("Content-Type", contentType).WithBody(body));
        using var client = Client();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, failure.Kind);
        Assert.Equal(1, Requests);
    }

    [Fact]
    public async Task ProxyPageOnA502_IsProxyUpstreamFailureAfterTheRetries()
    {
        Always(Response.Create().WithStatusCode(502).WithHeader("Content-Type", "text/html").WithBody("<html><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></html>"));
        using var client = Client(o => o.MaxRetryAttempts = 1);

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.ProxyUpstreamFailure, failure.Kind);
        Assert.Equal(2, Requests);
    }

    // Every answer is held past the attempt timeout (a scenario cannot serve "slow, then fast": WireMock moves a scenario
    // on when its delayed response is sent, after our attempt has already given up).
    [Fact]
    public async Task DelayBeyondTheAttemptTimeout_EachAttemptIsCutAndRetriedThenTimeout()
    {
        Always(Ok().WithDelay(TimeSpan.FromMilliseconds(600)));
        using var client = Client(o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(150);
            o.MaxRetryAttempts = 1;
        });

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.Timeout, failure.Kind);
        Assert.Equal(2, failure.Attempts);
        // WireMock logs a delayed request only once its response has been sent (600 ms after it arrived), later still on
        // a busy machine: wait for the second entry up to 5 s.
        Assert.True(await LlmResilience.Tests.Shared.Eventually.TrueAsync(() => Requests == 2, TimeSpan.FromSeconds(5)), $"WireMock logged {Requests} requests");
    }

    [Fact]
    public async Task EmptyResponseFault_A200WithNoBody_IsInvalidResponse()
    {
        Always(Ok().WithFault(FaultType.EMPTY_RESPONSE));
        using var client = Client();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, failure.Kind);
        Assert.Equal(1, Requests);
    }

    [Fact]
    public async Task MalformedChunkFault_A200WithACutBody_IsInvalidResponse()
    {
        Always(Ok().WithFault(FaultType.MALFORMED_RESPONSE_CHUNK));
        using var client = Client();

        var failure = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(TestClients.Hello()));

        Assert.Equal(LlmFailureKind.InvalidResponse, failure.Kind);
        Assert.Equal(1, Requests);
    }

    [Fact]
    public async Task Request_ArrivesAsTheApiExpects()
    {
        Always(Ok());
        using var client = Client();

        await client.CompleteAsync(TestClients.Hello("Ping"));

        var request = Assert.Single(_server.LogEntries).RequestMessage;
        Assert.Equal("POST", request.Method);
        Assert.Equal("Bearer " + TestClients.ApiKey, request.Headers!["Authorization"].Single());
        Assert.Contains("\"content\":\"Ping\"", request.Body, StringComparison.Ordinal);
        Assert.Contains("\"model\":\"test-model\"", request.Body, StringComparison.Ordinal);
    }

    // A generous attempt timeout: a WireMock answer slowed by a loaded machine must not be cut and retried, since the
    // cut attempt's answer would still move a scenario on and shift every later state by one.
    private ChatCompletionsClient Client(Action<LlmResilienceOptions>? configure = null) =>
        TestClients.Chat(BaseAddress, o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(15);
            o.TotalTimeout = TimeSpan.FromSeconds(30);
            configure?.Invoke(o);
        });

    private static IResponseBuilder Ok() =>
        Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithHeader("x-request-id", "req_wiremock").WithBody(Completion);

    private static IResponseBuilder Error(int status, string type) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json")
            .WithBody($$$"""{"error":{"message":"HTTP {{{status}}} from WireMock","type":"{{{type}}}","param":null,"code":null}}""");

    private void Always(IResponseBuilder response) =>
        _server.Given(Request.Create().WithPath(Path).UsingPost()).RespondWith(response);

    // WireMock's scenario: start → failed-once → failed-twice → succeeded. The last state sets itself, or WireMock would
    // return the scenario to its start and fail again.
    private void FailTwiceThenSucceed(IResponseBuilder failure)
    {
        var request = Request.Create().WithPath(Path).UsingPost();
        _server.Given(request).InScenario(Scenario).WillSetStateTo("failed-once").RespondWith(failure);
        _server.Given(request).InScenario(Scenario).WhenStateIs("failed-once").WillSetStateTo("failed-twice").RespondWith(failure);
        _server.Given(request).InScenario(Scenario).WhenStateIs("failed-twice").WillSetStateTo("succeeded").RespondWith(Ok());
        _server.Given(request).InScenario(Scenario).WhenStateIs("succeeded").WillSetStateTo("succeeded").RespondWith(Ok());
    }
}
