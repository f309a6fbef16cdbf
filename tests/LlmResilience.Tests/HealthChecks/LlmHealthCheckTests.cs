using System.Net;
using System.Net.Sockets;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace LlmResilience.Tests.HealthChecks;

/// <summary>AddLlmHealthCheck over real sockets: a GET models ping per endpoint, cached, judged, and never showing the key.</summary>
public sealed class LlmHealthCheckTests
{
    [Fact]
    public async Task DefaultClient_ModelsAnswers_HealthyWithLatencyStatusRequestIdAndEndpoint()
    {
        await using var server = await FakeLlmServer.StartAsync();
        await using var provider = Provider(server.BaseAddress);

        var entry = await CheckAsync(provider, "llm");

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(200, entry.Data["http_status"]);
        Assert.StartsWith("req_", (string)entry.Data["request_id"], StringComparison.Ordinal);
        Assert.IsType<long>(entry.Data["latency_ms"]);
        Assert.Equal(Endpoints.Describe(server.BaseAddress), entry.Data["endpoint"]);
        var ping = Assert.Single(server.Requests);
        Assert.Equal(("GET", "/v1/models"), (ping.Method, ping.Path));
        Assert.True(ping.SentApiKey(TestClients.ApiKey));
        AssertNoKey(entry);
    }

    [Fact]
    public async Task RepeatedAndConcurrentProbes_OnePingPerCacheDuration()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Delay(TimeSpan.FromMilliseconds(50), FakeBehavior.Ok());
        var time = new ManualTimeProvider();
        await using var provider = Provider(server.BaseAddress, time: time);

        var storm = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => CheckAsync(provider, "llm")));
        await CheckAsync(provider, "llm");
        Assert.All(storm, e => Assert.Equal(HealthStatus.Healthy, e.Status));
        Assert.Single(server.Requests);

        time.Advance(TimeSpan.FromSeconds(29));
        await CheckAsync(provider, "llm");
        Assert.Single(server.Requests);

        time.Advance(TimeSpan.FromSeconds(2));
        await CheckAsync(provider, "llm");
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Unauthorized_UnhealthyNamingTheCause_OneAttemptAndNoKeyAnywhere()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.DefaultBehavior = FakeBehavior.Unauthorized();
        await using var provider = Provider(server.BaseAddress);

        var entry = await CheckAsync(provider, "llm");

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("unauthorized", entry.Description, StringComparison.Ordinal);
        Assert.Equal(("Unauthorized", 401), (entry.Data["failure"], entry.Data["http_status"]));
        Assert.Single(server.Requests);
        AssertNoKey(entry);
    }

    [Fact]
    public async Task NothingListening_UnhealthyUnreachable()
    {
        var closed = ClosedPortAddress();
        await using var provider = Provider(closed);

        var entry = await CheckAsync(provider, "llm");

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("unreachable", entry.Description, StringComparison.Ordinal);
        Assert.Equal("ConnectFailure", entry.Data["failure"]);
        Assert.False(entry.Data.ContainsKey("http_status"));
    }

    [Fact]
    public async Task RateLimited_DegradedWithTheRemainingBudget_NotRetried()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string>
        {
            ["retry-after-ms"] = "5",
            ["x-ratelimit-remaining-requests"] = "0",
            ["x-ratelimit-remaining-tokens"] = "1200",
        }));
        await using var provider = Provider(server.BaseAddress);

        var entry = await CheckAsync(provider, "llm");

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("rate limited", entry.Description, StringComparison.Ordinal);
        Assert.Equal(("0", "1200"), (entry.Data["ratelimit_remaining_requests"], entry.Data["ratelimit_remaining_tokens"]));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Healthy_ReportsTheRemainingBudget()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Status(200, """{"object":"list","data":[]}""", new Dictionary<string, string>
        {
            ["x-request-id"] = "req_budget",
            ["x-ratelimit-limit-requests"] = "60",
            ["x-ratelimit-remaining-requests"] = "59",
        }));
        await using var provider = Provider(server.BaseAddress);

        var entry = await CheckAsync(provider, "llm");

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(("59", "60", "req_budget"), (entry.Data["ratelimit_remaining_requests"], entry.Data["ratelimit_limit_requests"], entry.Data["request_id"]));
    }

    [Fact]
    public async Task SlowAnswer_Degraded()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMilliseconds(150), FakeBehavior.Ok()));
        await using var provider = Provider(server.BaseAddress, o => o.DegradedLatency = TimeSpan.FromMilliseconds(50));

        var entry = await CheckAsync(provider, "llm");

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("slow", entry.Description, StringComparison.Ordinal);
        Assert.True((long)entry.Data["latency_ms"] >= 100);
    }

    [Fact]
    public async Task NamedClientWithTwoEndpoints_OneUnauthorized_DegradedAndEachReported()
    {
        await using var east = await FakeLlmServer.StartAsync();
        await using var west = await FakeLlmServer.StartAsync();
        west.DefaultBehavior = FakeBehavior.Unauthorized();
        var services = new ServiceCollection();
        services.AddChatCompletionsClient("fast", o =>
        {
            o.Model = "m";
            o.Endpoints.Add(new LlmEndpoint { Name = "east", BaseAddress = east.BaseAddress, ApiKey = "sk-east-key-0001" });
            o.Endpoints.Add(new LlmEndpoint { Name = "west", BaseAddress = west.BaseAddress, ApiKey = "sk-west-key-0002" });
        });
        services.AddHealthChecks().AddLlmHealthCheck("fast");
        await using var provider = services.BuildServiceProvider();

        var entry = await CheckAsync(provider, "llm-fast");

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal((2, 200, "Unauthorized", "Closed"), (entry.Data["endpoints"], entry.Data["east.http_status"], entry.Data["west.failure"], entry.Data["east.breaker"]));
        Assert.True(Assert.Single(east.Requests).SentApiKey("sk-east-key-0001"));
        Assert.True(Assert.Single(west.Requests).SentApiKey("sk-west-key-0002"));
        var text = entry.Description + string.Join(";", entry.Data.Values);
        Assert.DoesNotContain("sk-east", text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-west", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndpointWithItsBreakerOpen_AnswersButDegraded()
    {
        await using var primary = await FakeLlmServer.StartAsync();
        await using var secondary = await FakeLlmServer.StartAsync();
        primary.DefaultBehavior = FakeBehavior.ServerError(503);
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o =>
        {
            o.Model = "m";
            o.ApiKey = TestClients.ApiKey;
            o.Endpoints.Add(new LlmEndpoint { Name = "primary", BaseAddress = primary.BaseAddress });
            o.Endpoints.Add(new LlmEndpoint { Name = "secondary", BaseAddress = secondary.BaseAddress, Priority = 1 });
        });
        services.AddHealthChecks().AddLlmHealthCheck();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatCompletionsClient>();
        for (var i = 0; i < 3; i++)
        {
            await client.CompleteAsync(TestClients.Hello());
        }

        primary.DefaultBehavior = FakeBehavior.Ok();
        var entry = await CheckAsync(provider, "llm");

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(("Open", 200), (entry.Data["primary.breaker"], entry.Data["primary.http_status"]));
        Assert.Contains("out of rotation", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptions_FailAtStartUpNamingTheCheckAndTheFix()
    {
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o =>
        {
            o.BaseAddress = new Uri("http://127.0.0.1:9/v1/");
            o.Model = "m";
        });
        services.AddHealthChecks().AddLlmHealthCheck(o =>
        {
            o.Timeout = TimeSpan.Zero;
            o.CacheDuration = TimeSpan.FromHours(2);
        });
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("LlmHealthCheckOptions 'llm': Timeout is 00:00:00; it must be more than 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("CacheDuration is 02:00:00", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Provider(Uri baseAddress, Action<LlmHealthCheckOptions>? configure = null, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddChatCompletionsClient(o =>
        {
            o.BaseAddress = baseAddress;
            o.ApiKey = TestClients.ApiKey;
            o.Model = "m";
            o.Resilience.ConnectTimeout = TimeSpan.FromSeconds(2);
        });
        var checks = services.AddHealthChecks();
        _ = configure is null ? checks.AddLlmHealthCheck() : checks.AddLlmHealthCheck(configure);
        return services.BuildServiceProvider();
    }

    private static async Task<HealthReportEntry> CheckAsync(IServiceProvider provider, string name)
    {
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == name);
        return report.Entries[name];
    }

    private static void AssertNoKey(HealthReportEntry entry)
    {
        var text = entry.Description + string.Join(";", entry.Data.Select(kv => $"{kv.Key}={kv.Value}"));
        Assert.DoesNotContain(TestClients.ApiKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", text, StringComparison.Ordinal);
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static Uri ClosedPortAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/v1/");
    }
}
