// LlmResilience console sample: a completion and a streamed completion through the resilient client.
// Without OPENAI_API_KEY it starts an embedded FakeLlmServer scripted with real wire-level faults and short timeouts,
// so the run takes seconds and shows, attempt by attempt, what failed and what the pipeline did.
// With OPENAI_API_KEY set (and optionally LLM_BASE_URL, LLM_MODEL) it calls that endpoint instead.
using System.Diagnostics;
using LlmResilience;
using LlmResilience.Chat;
using LlmResilience.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var apiKey = Environment.GetEnvironmentVariable("OPENAI_API_KEY");
var console = new SampleConsole();
FakeLlmServer? server = null;
if (string.IsNullOrEmpty(apiKey))
{
    server = await FakeLlmServer.StartAsync();
    server.Enqueue(
        FakeBehavior.ResetBeforeHeaders(),                                                     // TCP RST before any header
        FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "1" }),    // 429, wait 1 s
        FakeBehavior.EnvoyUpstreamReset(),                                                     // proxy 503 "upstream connect error"
        FakeBehavior.Ok(),
        FakeBehavior.StreamStallAfter(0),                                                      // stream that never sends a token
        FakeBehavior.OkStream(["Resilience ", "is ", "a ", "pipeline, ", "not ", "a ", "loop."], TimeSpan.FromMilliseconds(40)),
        FakeBehavior.RateLimited(new Dictionary<string, string> { ["x-ratelimit-remaining-tokens"] = "0", ["x-ratelimit-reset-tokens"] = "6m0s" }));
    console.WriteLine($"No OPENAI_API_KEY: using the embedded FakeLlmServer at {server.BaseAddress}");
}

var services = new ServiceCollection();
// Log lines go through SampleConsole, which never lets one split the streamed answer's line.
services.AddLogging(logging => logging
    .AddProvider(console)
    .SetMinimumLevel(LogLevel.Warning));
services.AddChatCompletionsClient(options =>
{
    options.BaseAddress = server?.BaseAddress ?? new Uri(Environment.GetEnvironmentVariable("LLM_BASE_URL") ?? "https://api.openai.com/v1/");
    options.ApiKey = apiKey;
    options.Model = Environment.GetEnvironmentVariable("LLM_MODEL") ?? "gpt-4o-mini";
    if (server is not null)
    {
        // Short clocks so the faults play out in seconds.
        options.Resilience.BaseDelay = TimeSpan.FromMilliseconds(200);
        options.Resilience.FirstTokenTimeout = TimeSpan.FromSeconds(1);
        options.Resilience.StreamIdleTimeout = TimeSpan.FromSeconds(1);
        options.Resilience.AttemptTimeout = TimeSpan.FromSeconds(5);
        options.Resilience.TotalTimeout = TimeSpan.FromSeconds(30);
    }
});

await using var provider = services.BuildServiceProvider();
var client = provider.GetRequiredService<IChatCompletionsClient>();
var exitCode = 0;

console.WriteLine();
console.WriteLine("1) A completion");
var stopwatch = Stopwatch.StartNew();
var completion = await client.CompleteAsync(new ChatCompletionRequest(
[
    ChatMessage.System("You are terse."),
    ChatMessage.User("In one sentence: why do LLM calls need retries?"),
]));
console.WriteLine($"   answer ({stopwatch.ElapsedMilliseconds} ms, request id {completion.RequestId}): {completion.Content}");

console.WriteLine();
console.WriteLine("2) A streamed completion");
stopwatch.Restart();
console.BeginStream("   answer: ");
await foreach (var chunk in client.StreamAsync(new ChatCompletionRequest([ChatMessage.User("Say something about resilience.")])))
{
    console.Write(chunk.ContentDelta);
}

console.EndStream($"   ({stopwatch.ElapsedMilliseconds} ms)");

if (server is not null)
{
    console.WriteLine();
    console.WriteLine("3) A rate limit that asks for a six-minute wait: failing fast instead of sleeping");
    try
    {
        await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("One more?")]));
        console.WriteLine("   unexpected success");
        exitCode = 1;
    }
    catch (LlmException error)
    {
        console.WriteLine($"   LlmException {error.Kind}: RetryAfter {error.RetryAfter}, attempts {error.Attempts}");
        console.WriteLine($"   {error.Message}");
    }

    console.WriteLine();
    console.WriteLine("What the server saw, attempt by attempt:");
    var requests = server.Requests;
    for (var i = 0; i < requests.Count; i++)
    {
        var gap = i == 0 ? TimeSpan.Zero : requests[i].ElapsedSince(requests[i - 1]);
        console.WriteLine($"   #{i + 1} +{gap.TotalMilliseconds,6:0} ms  connection {requests[i].ConnectionId,-14} {(requests[i].IsStreaming ? "stream " : "       ")} {requests[i].BehaviorName}");
    }

    if (requests.Count != 7)
    {
        console.WriteLine($"Expected 7 requests, saw {requests.Count}.");
        exitCode = 1;
    }

    await server.DisposeAsync();

    console.WriteLine();
    console.WriteLine("4) Failover across two regions: east is down (an Envoy 503 on every call), west answers");
    await using var east = await FakeLlmServer.StartAsync();
    await using var west = await FakeLlmServer.StartAsync();
    east.DefaultBehavior = FakeBehavior.EnvoyUpstreamReset();
    var routed = new LlmClientOptions { Model = "gpt-4o-mini" };
    routed.Endpoints.Add(new LlmEndpoint { Name = "east", BaseAddress = east.BaseAddress });
    routed.Endpoints.Add(new LlmEndpoint { Name = "west", BaseAddress = west.BaseAddress, Priority = 1 });
    using (var failover = ChatCompletionsClient.Create(routed, provider.GetRequiredService<ILoggerFactory>()))
    {
        for (var call = 1; call <= 5; call++)
        {
            stopwatch.Restart();
            var answer = await failover.CompleteAsync(new ChatCompletionRequest([ChatMessage.User($"Call {call}")]));
            console.WriteLine($"   call {call}: answered by {answer.Endpoint} in {stopwatch.ElapsedMilliseconds} ms (east has seen {east.Requests.Count} request(s))");
        }
    }

    // Three failures opened east's breaker: calls 4 and 5 went straight to west, without a request to east.
    if (east.Requests.Count != 3 || west.Requests.Count != 5)
    {
        console.WriteLine($"Expected east to see 3 requests and west 5, saw {east.Requests.Count} and {west.Requests.Count}.");
        exitCode = 1;
    }
}

return exitCode;
