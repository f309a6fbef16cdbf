using System.Net;
using System.Text.Json;
using LlmResilience.Testing;

namespace LlmResilience.Samples.AspNetCore.Tests.Chat;

/// <summary>/health/llm pings the LLM (GET models) through the app's own client: its own app, so no other test's script is consumed.</summary>
public sealed class LlmHealthEndpointTests(SampleAppFixture fixture) : IClassFixture<SampleAppFixture>
{
    [Fact]
    public async Task HealthLlm_RejectedKey_IsUnhealthy_WithTheEndpointsDataAndNoKey()
    {
        fixture.App.Llm.Enqueue(FakeBehavior.Unauthorized());
        using var client = fixture.App.CreateClient();

        using var response = await client.GetAsync(new Uri("/health/llm", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("Unhealthy", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", json.RootElement.GetProperty("checks").GetProperty("llm").GetProperty("status").GetString());
        Assert.Contains("401", body, StringComparison.Ordinal);
        Assert.Equal("GET", fixture.App.Llm.Requests[^1].Method);
        Assert.EndsWith("/models", fixture.App.Llm.Requests[^1].Path, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Development_WiresOpenTelemetry_ToTheConsole_ForTheLibrarysSourceAndMeter()
    {
        var tracing = fixture.App.Services.GetService(typeof(OpenTelemetry.Trace.TracerProvider));
        var metrics = fixture.App.Services.GetService(typeof(OpenTelemetry.Metrics.MeterProvider));

        Assert.NotNull(tracing);
        Assert.NotNull(metrics);
        Assert.True(new System.Diagnostics.ActivitySource(LlmResilienceTelemetry.ActivitySourceName).HasListeners());
    }
}
