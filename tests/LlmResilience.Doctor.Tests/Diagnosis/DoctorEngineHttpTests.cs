using System.Text;
using LlmResilience.Doctor.Diagnosis;
using LlmResilience.Doctor.Tests.Support;
using LlmResilience.Testing;

namespace LlmResilience.Doctor.Tests.Diagnosis;

/// <summary>What the HTTP answers mean: resets, gateway pages, 401, a web page at the base, 429s, slow first bytes, buffered streams.</summary>
public sealed class DoctorEngineHttpTests
{
    [Theory]
    [InlineData("reset")]
    [InlineData("close")]
    public async Task Run_ConnectionEndsBeforeHeaders_ResetBeforeHeaders(string how)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = how == "reset" ? FakeBehavior.ResetBeforeHeaders() : FakeBehavior.CloseBeforeHeaders();

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report, DoctorCause.ResetBeforeHeaders);
        Assert.Contains(how == "reset" ? "reset" : "closed", report.Findings[0].Summary);
        Assert.Equal(StepOutcome.Skipped, Probe.Step(report, "Chat (1 token)").Outcome);
    }

    [Theory]
    [InlineData(502, "nginx")]
    [InlineData(504, "nginx")]
    [InlineData(503, "Envoy")]
    [InlineData(524, "Cloudflare")]
    public async Task Run_GatewayErrorPage_ProxyUpstreamErrorNamingTheGateway(int status, string gateway)
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = status switch
        {
            502 => FakeBehavior.NginxBadGateway(),
            504 => FakeBehavior.NginxGatewayTimeout(),
            503 => FakeBehavior.EnvoyUpstreamReset(),
            _ => FakeBehavior.CloudflareError(status),
        };

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report, DoctorCause.ProxyUpstreamError);
        Assert.Contains(gateway, report.Findings[0].Summary);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), report.Findings[0].Summary);
        if (status == 503)
        {
            Assert.Contains("upstream connect error or disconnect/reset before headers", report.Findings[0].Summary);
        }
    }

    [Fact]
    public async Task Run_WrongKey_UnauthorizedAndTheKeyIsNowhereInTheReport()
    {
        const string Key = "sk-test-wrong-key-0123456789abcdef";
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { RequireApiKey = true, ApiKey = "sk-right" });

        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress) with { ApiKey = Key, ApiKeySource = "--api-key" });

        Probe.AssertCauses(report, DoctorCause.Unauthorized);
        Assert.Contains("401", report.Findings[0].Summary);
        Assert.True(server.Requests[0].SentApiKey(Key));
        Assert.DoesNotContain(Key, Probe.AllText(report));
        Assert.DoesNotContain("0123456789abcdef", Probe.AllText(report));
    }

    [Fact]
    public async Task Run_ServerEchoesTheKeyInItsError_TheReportHidesIt()
    {
        const string Key = "sk-test-echoed-by-a-careless-gateway";
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Status(401, $$$"""{"error":{"message":"Bad key {{{Key}}}","type":"invalid_request_error","code":"invalid_api_key"}}""");

        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress) with { ApiKey = Key });

        Probe.AssertCauses(report, DoctorCause.Unauthorized);
        Assert.Contains("Bad key ***", report.Findings[0].Summary);
        Assert.DoesNotContain(Key, Probe.AllText(report));
    }

    [Fact]
    public async Task Run_NoKeyAndTheApiWantsOne_UnauthorizedSaysNoneWasSent()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { RequireApiKey = true, ApiKey = "sk-right" });

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report, DoctorCause.Unauthorized);
        Assert.Contains("no API key was sent", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_404HtmlPage_WrongBaseAddress()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Status(404, "<html><body><h1>404 Not Found</h1></body></html>", contentType: "text/html");

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report, DoctorCause.WrongBaseAddress);
        Assert.Contains("HTML page", report.Findings[0].Summary);
        Assert.Equal(2, server.Requests.Count); // the chat call is tried before the address is blamed
    }

    [Fact]
    public async Task Run_WebSiteAnswers200WithHtml_WrongBaseAddress()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Status(200, "<!doctype html><title>Welcome</title>", contentType: "text/html");

        var report = await Probe.RunAsync(server.BaseAddress, model: null);

        Probe.AssertCauses(report, DoctorCause.WrongBaseAddress);
        Assert.Contains("web page", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_NoModelListButChatWorks_Healthy()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(404, """{"error":{"message":"Not found","type":"invalid_request_error"}}"""), FakeBehavior.Ok(), Probe.SpacedStream());

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report);
        Assert.Equal(StepOutcome.Ok, Probe.Step(report, "Chat (1 token)").Outcome);
    }

    [Fact]
    public async Task Run_429_RateLimitedWithTheServersHints()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.RateLimited(new Dictionary<string, string>
        {
            ["retry-after-ms"] = "1500",
            ["x-ratelimit-remaining-requests"] = "0",
        });

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report, DoctorCause.RateLimited);
        Assert.Contains("retry-after-ms: 1500", report.Findings[0].Summary);
        Assert.Contains("x-ratelimit-remaining-requests: 0", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_429InsufficientQuota_QuotaExceeded()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.InsufficientQuota();

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report, DoctorCause.QuotaExceeded);
        Assert.Contains("insufficient_quota", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_ModelsAnswerAfterTheThreshold_SlowFirstByte()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMilliseconds(250), FakeBehavior.Ok()));

        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress, model: null) with { SlowFirstByte = TimeSpan.FromMilliseconds(100) });

        Probe.AssertCauses(report, DoctorCause.SlowFirstByte);
        Assert.Contains("100 ms", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_ModelsAnswerWithinTheThreshold_NotSlow()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMilliseconds(20), FakeBehavior.Ok()));

        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress, model: null) with { SlowFirstByte = TimeSpan.FromSeconds(5) });

        Probe.AssertCauses(report);
    }

    [Fact]
    public async Task Run_ServerNeverAnswers_SlowFirstByteNamesTheTimeout()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Hang();

        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress) with { RequestTimeout = TimeSpan.FromMilliseconds(300) });

        Probe.AssertCauses(report, DoctorCause.SlowFirstByte);
        Assert.Contains("no response within 300 ms", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_StreamDeliveredInOneBurst_StreamBuffered()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Ok(), FakeBehavior.Ok(), BufferedStream(events: 8));

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report, DoctorCause.StreamBuffered);
        Assert.Contains("proxy_buffering off", report.Findings[0].Fix);
        Assert.Contains("9 events", report.Findings[0].Summary); // the role chunk and eight content chunks
    }

    [Fact]
    public async Task Run_StreamEventsSpacedAsTokens_NotBuffered()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.ScriptHealthy();

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report);
        var stream = Probe.Step(report, "Stream");
        Assert.Equal(StepOutcome.Ok, stream.Outcome);
        Assert.Contains(stream.Details, d => d.StartsWith("first event after", StringComparison.Ordinal));
        Assert.Contains(stream.Details, d => d.Contains("gap median", StringComparison.Ordinal));
    }

    /// <summary>What nginx with <c>proxy_buffering on</c> delivers: nothing, then the whole stream in one write.</summary>
    private static FakeBehavior BufferedStream(int events) => FakeBehavior.Custom("BufferedStream", async (http, cancellationToken) =>
    {
        http.Response.ContentType = "text/event-stream";
        await Task.Delay(50, cancellationToken); // the proxy waits for the upstream's whole answer
        var body = new StringBuilder();
        body.Append(Chunk("""{"role":"assistant","content":""}"""));
        for (var i = 1; i <= events; i++)
        {
            body.Append(Chunk($$"""{"content":"{{i}} "}"""));
        }

        body.Append("data: [DONE]\n\n");
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body.ToString()), cancellationToken);
    });

    private static string Chunk(string delta) =>
        $$"""data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":0,"model":"fake-model","choices":[{"index":0,"delta":{{delta}},"finish_reason":null}]}""" + "\n\n";
}
