// LlmResilience ASP.NET Core sample: a chat page whose answers stream token by token over server-sent events, with
// upstream failures turned into RFC 7807 problem details and friendly messages.
// Without an API key (Llm:ApiKey in user secrets or the environment, or OPENAI_API_KEY) it runs against FakeLlmServer,
// started as a local development server on the port in appsettings.json, with a few faults injected.
using LlmResilience.Samples.AspNetCore.Chat;
using LlmResilience.Samples.AspNetCore.DevServer;

var builder = WebApplication.CreateBuilder(args);
var devServer = DevLlmServer.AddIfConfigured(builder);

builder.Services.AddProblemDetails();
builder.Services.AddChatCompletionsClient(builder.Configuration.GetSection("Llm"));

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

// The LLM health check (reachability, breaker and rate-limit state per endpoint) plugs in here once the library has it.
app.MapGet("/health", () => TypedResults.Ok(new HealthStatus("Healthy")));
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

/// <summary>The body of <c>GET /health</c>.</summary>
/// <param name="Status">Always <c>Healthy</c> while the process serves requests.</param>
internal sealed record HealthStatus(string Status);
