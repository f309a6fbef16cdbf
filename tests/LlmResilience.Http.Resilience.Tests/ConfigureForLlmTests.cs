using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LlmResilience.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace LlmResilience.Http.Resilience.Tests;

/// <summary>
/// <c>AddStandardResilienceHandler().ConfigureForLlm()</c> over FakeLlmServer's real sockets, with the fault scenarios our own
/// handler is tested with: what the caller got and how many requests the server saw. Delays are milliseconds (a later
/// <c>Configure</c> shortens MEHR's backoff, as an app may).
/// </summary>
public sealed class ConfigureForLlmTests
{
    private const string Body = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public void ConfigureForLlm_SetsTimeoutsRetryAndABreakerForLlmRates()
    {
        using var provider = Build(new Uri("http://127.0.0.1:1/v1/"), shorten: false);

        var options = provider.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get("llm-standard");

        Assert.Equal(TimeSpan.FromMinutes(10), options.AttemptTimeout.Timeout);
        Assert.Equal(TimeSpan.FromMinutes(20), options.TotalRequestTimeout.Timeout);
        Assert.Equal(4, options.Retry.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Retry.Delay);
        Assert.Equal(TimeSpan.FromSeconds(20), options.Retry.MaxDelay);
        Assert.False(options.Retry.ShouldRetryAfterHeader);
        Assert.Equal(10, options.CircuitBreaker.MinimumThroughput);
        Assert.Equal(0.5, options.CircuitBreaker.FailureRatio);
        Assert.Equal(TimeSpan.FromMinutes(20), options.CircuitBreaker.SamplingDuration);
    }

    [Fact]
    public void ConfigureForLlm_NegativeMaxRetryAfter_FailsAtStartWithTheFix()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("llm").AddStandardResilienceHandler().ConfigureForLlm(o => o.MaxRetryAfter = TimeSpan.FromSeconds(-1));
        using var provider = services.BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<LlmHttpResilienceOptions>>().Get("llm-standard"));

        Assert.Contains("MaxRetryAfter must not be negative", failure.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> RetriedFaults() =>
    [
        "ResetBeforeHeaders", "CloseBeforeHeaders", "EnvoyUpstreamReset", "NginxBadGateway", "NginxGatewayTimeout",
        "Cloudflare524", "ServerError500", "ServerError503", "RateLimited", "Status408", "Status409",
    ];

    [Theory]
    [MemberData(nameof(RetriedFaults))]
    public async Task Send_RetriedFaultThenOk_CallerGetsTheAnswer(string fault)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(Fault(fault), FakeBehavior.Ok("fine"));
        using var provider = Build(server.BaseAddress);

        using var response = await PostAsync(provider);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("fine", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, server.Requests.Count);
    }

    public static TheoryData<string, int> NotRetried() => new()
    {
        { "InsufficientQuota", 429 },
        { "Unauthorized", 401 },
        { "ContextLengthExceeded", 400 },
        { "Status404", 404 },
        { "Status422", 422 },
        { "ServerError503ShouldRetryFalse", 503 },
    };

    [Theory]
    [MemberData(nameof(NotRetried))]
    public async Task Send_NotRetriedFailure_CallerGetsItAfterOneRequest(string fault, int status)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(Fault(fault), FakeBehavior.Ok());
        using var provider = Build(server.BaseAddress);

        using var response = await PostAsync(provider);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Send_InsufficientQuota_CallerCanStillReadTheErrorBody()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.InsufficientQuota());
        using var provider = Build(server.BaseAddress);

        using var response = await PostAsync(provider);

        Assert.Contains("insufficient_quota", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_ShouldRetryTrueOnA400_IsRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(400, """{"error":{"message":"try again","type":"invalid_request_error"}}""", Headers("x-should-retry", "true")), FakeBehavior.Ok());
        using var provider = Build(server.BaseAddress);

        using var response = await PostAsync(provider);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Requests.Count);
    }

    [Theory]
    [InlineData("retry-after-ms", "150")]
    [InlineData("x-ms-retry-after-ms", "150")]
    public async Task Send_MillisecondHint_WaitsThatLong(string header, string value)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers(header, value)), FakeBehavior.Ok());
        using var provider = Build(server.BaseAddress);

        using var response = await PostAsync(provider);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(server.Requests[1].ElapsedSince(server.Requests[0]) >= TimeSpan.FromMilliseconds(140), $"Waited {server.Requests[1].ElapsedSince(server.Requests[0]).TotalMilliseconds} ms.");
    }

    // Hints too long to wait for in a test: each one is read (the call ends at once, as MaxRetryAfter says) rather than
    // ignored (which would retry after the 1 ms backoff).
    public static TheoryData<string, string> LongHints() => new()
    {
        { "retry-after-ms", "5000" },
        { "x-ms-retry-after-ms", "5000" },
        { "Retry-After", "5" },
        { "Retry-After", DateTimeOffset.UtcNow.AddMinutes(10).ToString("r", CultureInfo.InvariantCulture) },
        { "x-ratelimit-reset-requests", "6m0s" },
        { "x-ratelimit-reset-tokens", "1h" },
    };

    [Theory]
    [MemberData(nameof(LongHints))]
    public async Task Send_HintAboveMaxRetryAfter_EndsTheCallWithThatResponse(string header, string value)
    {
        await using var server = await FakeLlmServer.StartAsync();
        var headers = Headers(header, value);
        if (header.StartsWith("x-ratelimit-reset", StringComparison.Ordinal))
        {
            headers[header.Replace("reset", "remaining", StringComparison.Ordinal)] = "0";
        }

        server.Enqueue(FakeBehavior.RateLimited(headers), FakeBehavior.Ok());
        using var provider = Build(server.BaseAddress, maxRetryAfter: TimeSpan.FromSeconds(1));

        using var response = await PostAsync(provider);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Single(server.Requests);
    }

    [Theory]
    [InlineData("retry-after-ms", "-5")]
    [InlineData("Retry-After", "soon")]
    [InlineData("retry-after-ms", "NaN")]
    public async Task Send_GarbageHint_FallsBackToTheBackoff(string header, string value)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(Headers(header, value)), FakeBehavior.Ok());
        using var provider = Build(server.BaseAddress, maxRetryAfter: TimeSpan.FromSeconds(1));

        using var response = await PostAsync(provider);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Send_AttemptThatHangs_IsCutByTheAttemptTimeoutAndRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Hang(), FakeBehavior.Ok());
        using var provider = Build(server.BaseAddress, attemptTimeout: TimeSpan.FromMilliseconds(300));

        using var response = await PostAsync(provider);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Send_ConnectionRefused_IsRetriedUntilTheAttemptsRunOut()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now: every connect is refused
        using var provider = Build(new Uri($"http://127.0.0.1:{port}/v1/"));

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync(provider));

        Assert.Equal(HttpRequestError.ConnectionError, failure.HttpRequestError);
    }

    [Fact]
    public async Task Send_FirstResetBeforeHeaders_IsRetriedWithoutWaiting()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.Ok());
        using var provider = Build(server.BaseAddress, retryDelay: TimeSpan.FromSeconds(2));

        using var response = await PostAsync(provider);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(server.Requests[1].ElapsedSince(server.Requests[0]) < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Send_TenFailedAttempts_OpenTheCircuit()
    {
        await using var server = await FakeLlmServer.StartAsync();
        for (var i = 0; i < 10; i++)
        {
            server.Enqueue(FakeBehavior.ServerError(503));
        }

        // The breaker sits inside the retry, so it counts attempts: five calls of two attempts each.
        using var provider = Build(server.BaseAddress, maxRetries: 1);
        for (var i = 0; i < 5; i++)
        {
            using var failed = await PostAsync(provider);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        await Assert.ThrowsAsync<BrokenCircuitException>(() => PostAsync(provider));
        Assert.Equal(10, server.Requests.Count);
    }

    [Fact]
    public async Task Send_TenRateLimits_DoNotOpenTheCircuit()
    {
        await using var server = await FakeLlmServer.StartAsync();
        for (var i = 0; i < 10; i++)
        {
            server.Enqueue(FakeBehavior.RateLimited());
        }

        using var provider = Build(server.BaseAddress, maxRetries: 1);
        for (var i = 0; i < 5; i++)
        {
            using var limited = await PostAsync(provider);
        }

        using var response = await PostAsync(provider);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static FakeBehavior Fault(string name) => name switch
    {
        "ResetBeforeHeaders" => FakeBehavior.ResetBeforeHeaders(),
        "CloseBeforeHeaders" => FakeBehavior.CloseBeforeHeaders(),
        "EnvoyUpstreamReset" => FakeBehavior.EnvoyUpstreamReset(),
        "NginxBadGateway" => FakeBehavior.NginxBadGateway(),
        "NginxGatewayTimeout" => FakeBehavior.NginxGatewayTimeout(),
        "Cloudflare524" => FakeBehavior.CloudflareError(524),
        "ServerError500" => FakeBehavior.ServerError(500),
        "ServerError503" => FakeBehavior.ServerError(503),
        "RateLimited" => FakeBehavior.RateLimited(Headers("retry-after-ms", "5")),
        "Status408" => FakeBehavior.Status(408),
        "Status409" => FakeBehavior.Status(409, """{"error":{"message":"conflict","type":"conflict"}}"""),
        "InsufficientQuota" => FakeBehavior.InsufficientQuota(),
        "Unauthorized" => FakeBehavior.Unauthorized(),
        "ContextLengthExceeded" => FakeBehavior.ContextLengthExceeded(),
        "Status404" => FakeBehavior.Status(404, """{"error":{"message":"no such model","type":"invalid_request_error"}}"""),
        "Status422" => FakeBehavior.Status(422),
        "ServerError503ShouldRetryFalse" => FakeBehavior.Status(503, """{"error":{"message":"down","type":"server_error"}}""", Headers("x-should-retry", "false")),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static Dictionary<string, string> Headers(string name, string value) => new(StringComparer.OrdinalIgnoreCase) { [name] = value };

    private static ServiceProvider Build(Uri baseAddress, bool shorten = true, TimeSpan? maxRetryAfter = null, TimeSpan? attemptTimeout = null,
        TimeSpan? retryDelay = null, int? maxRetries = null)
    {
        var services = new ServiceCollection();
        var standard = services.AddHttpClient("llm", c => c.BaseAddress = baseAddress)
            .AddStandardResilienceHandler()
            .ConfigureForLlm(o => o.MaxRetryAfter = maxRetryAfter ?? TimeSpan.FromSeconds(60));
        if (shorten)
        {
            standard.Configure(o =>
            {
                o.Retry.Delay = retryDelay ?? TimeSpan.FromMilliseconds(1);
                o.Retry.UseJitter = false;
                o.Retry.MaxRetryAttempts = maxRetries ?? o.Retry.MaxRetryAttempts;
                o.AttemptTimeout.Timeout = attemptTimeout ?? TimeSpan.FromSeconds(5);
                o.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(20);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);
            });
        }

        return services.BuildServiceProvider();
    }

    private static Task<HttpResponseMessage> PostAsync(ServiceProvider provider) =>
        provider.GetRequiredService<IHttpClientFactory>().CreateClient("llm")
            .PostAsync("chat/completions", new StringContent(Body, Encoding.UTF8, "application/json"));
}
