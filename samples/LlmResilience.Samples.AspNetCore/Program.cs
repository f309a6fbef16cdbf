// LlmResilience ASP.NET Core sample: a chat page whose answers stream token by token over server-sent events, with
// upstream failures turned into RFC 7807 problem details and friendly messages.
// Without an API key (Llm:ApiKey in user secrets or the environment, or OPENAI_API_KEY) it runs against FakeLlmServer,
// started as a local development server on the port in appsettings.json, with a few faults injected.
using LlmResilience.Samples.AspNetCore.Chat;
using LlmResilience.Samples.AspNetCore.DevServer;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

var builder = WebApplication.CreateBuilder(args);
var devServer = DevLlmServer.AddIfConfigured(builder);

builder.Services.AddProblemDetails();
builder.Services.AddChatCompletionsClient(builder.Configuration.GetSection("Llm"));
// GET models per endpoint, one attempt, cached 30 s: a probe storm cannot hammer the provider.
builder.Services.AddHealthChecks().AddLlmHealthCheck();
if (builder.Environment.IsDevelopment() && builder.Configuration.GetValue("OpenTelemetry:Console", true))
{
    // Each call's span (chat {model}, with its retries, failovers and waits as events) and the gen_ai metrics, printed.
    builder.Services.AddOpenTelemetry()
        .WithTracing(tracing => tracing.AddSource(LlmResilience.LlmResilienceTelemetry.ActivitySourceName).AddConsoleExporter())
        .WithMetrics(metrics => metrics.AddMeter(LlmResilience.LlmResilienceTelemetry.MeterName).AddConsoleExporter());
}

var app = builder.Build();
if (devServer is not null)
{
    await devServer.StartAsync();
    LogDevServer(app.Logger, devServer.Server.BaseAddress);
}

// An unexpected exception still reaches the browser as problem details (500), never as a bare error page.
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseDefaultFiles();
app.UseStaticFiles();

// Liveness: the process serves requests. Readiness of the LLM (reachability, breaker and rate-limit state per endpoint):
// /health/llm, with each endpoint's data as JSON (never the key).
app.MapGet("/health", () => TypedResults.Ok(new HealthStatus("Healthy")));
app.MapHealthChecks("/health/llm", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions { ResponseWriter = HealthJson.WriteAsync });
app.MapChatEndpoints();
if (devServer is not null)
{
    app.MapDevFaultEndpoints();
}

await app.RunAsync();

/// <summary>The sample's entry point; public so that WebApplicationFactory can start it in tests.</summary>
public partial class Program
{
    [LoggerMessage(1, LogLevel.Information, "No API key configured: the LLM is FakeLlmServer at {BaseAddress} (set Llm:ApiKey to call a real endpoint)")]
    private static partial void LogDevServer(ILogger logger, Uri baseAddress);
}

/// <summary>Writes a health report as JSON: the overall status, then each check's status, description and data.</summary>
internal static class HealthJson
{
    public static Task WriteAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report) =>
        context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data.ToDictionary(d => d.Key, d => d.Value?.ToString()),
            }),
        });
}

/// <summary>The body of <c>GET /health</c>.</summary>
/// <param name="Status">Always <c>Healthy</c> while the process serves requests.</param>
internal sealed record HealthStatus(string Status);
