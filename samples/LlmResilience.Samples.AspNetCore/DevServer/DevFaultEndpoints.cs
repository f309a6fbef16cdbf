using LlmResilience.Testing;

namespace LlmResilience.Samples.AspNetCore.DevServer;

/// <summary>
/// <c>GET /dev/faults</c> lists and <c>POST /dev/faults/{name}</c> injects a fault into the next answer of the development
/// server, so a visitor (and the browser tests) can see each failure as the page renders it. Mapped only when the sample
/// runs against FakeLlmServer.
/// </summary>
internal static class DevFaultEndpoints
{
    private static readonly Dictionary<string, Func<FakeBehavior[]>> Faults = new(StringComparer.OrdinalIgnoreCase)
    {
        // Longer than Llm:Resilience:MaxRetryAfter (10 s): the pipeline fails fast instead of holding the request.
        ["rate-limited"] = () => [FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "20" })],

        // A proxy that cannot reach its upstream, on every attempt.
        ["upstream-down"] = () => Enumerable.Repeat(FakeBehavior.EnvoyUpstreamReset(), DevLlmServer.AttemptsPerCall).ToArray(),

        // Five tokens reach the browser, then the connection resets: never retried, since output began.
        ["stream-breaks"] = () => [FakeBehavior.StreamResetAfter(5)],
    };

    public static IEndpointRouteBuilder MapDevFaultEndpoints(this IEndpointRouteBuilder app)
    {
        var faults = app.MapGroup("/dev/faults");
        faults.MapGet("/", () => TypedResults.Ok(Faults.Keys.Order(StringComparer.Ordinal).ToArray()));
        faults.MapPost("/{name}", IResult (string name, FakeLlmServer server) =>
        {
            if (!Faults.TryGetValue(name, out var behaviors))
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status404NotFound,
                    title: "Unknown fault",
                    detail: $"Known faults: {string.Join(", ", Faults.Keys.Order(StringComparer.Ordinal))}.");
            }

            server.Reset();
            server.Enqueue(behaviors());
            return TypedResults.NoContent();
        });
        return app;
    }
}
