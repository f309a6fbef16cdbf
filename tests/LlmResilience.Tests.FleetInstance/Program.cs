// One instance of an app in a fleet, as its own OS process (tests/LlmResilience.Tests/Redis/FleetProcessTests.cs
// starts several against one FakeLlmServer quota):
//   1. builds its container: one endpoint paced to --rpm, with --redis coordinated through AddLlmRedisCoordination, and
//      waits until it shares through Redis;
//   2. with --warm-up-url, makes a few calls there (a server without a quota) on the same path, so that the first
//      measured calls do not wait for the JIT while the budget they took runs on;
//   3. prints "ready" and waits for a "go" line on stdin, so that every instance starts calling at the same moment;
//   4. makes --calls calls with --workers concurrent workers, and prints one JSON line of results; exits 0.
// Every wait is bounded: --timeout-seconds ends the process (exit 3) whatever it is doing.
using System.Diagnostics;
using System.Text.Json;
using LlmResilience;
using LlmResilience.Chat;
using LlmResilience.Tests.FleetInstance;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

FleetArguments arguments;
try
{
    arguments = FleetArguments.Parse(args);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync(ex.Message + Environment.NewLine + FleetArguments.Usage);
    return 2;
}

using var deadline = new CancellationTokenSource(arguments.Timeout);
// The last resort: whatever hangs (a call, stdin, a dispose), the process ends.
_ = Task.Delay(arguments.Timeout + TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ =>
{
    Console.Error.WriteLine($"fleet instance: no result within {arguments.Timeout.TotalSeconds:0} s; exiting.");
    Environment.Exit(3);
}, TaskScheduler.Default);

var warnings = new WarningLog();
var services = new ServiceCollection();
services.AddLogging(logging => logging.AddProvider(warnings).SetMinimumLevel(LogLevel.Warning));
var builder = services.AddChatCompletionsClient(o => Configure(o, arguments.BaseUrl));
if (arguments.WarmUpUrl is { } warmUpUrl)
{
    services.AddChatCompletionsClient("warm-up", o => Configure(o, warmUpUrl));
}

if (arguments.Redis is { } redis)
{
    builder.AddLlmRedisCoordination(redis, o =>
    {
        o.KeyPrefix = arguments.KeyPrefix;
        // Generous: these runs are about sharing, not about a loaded machine's Redis falling back to local pacing.
        o.OperationTimeout = TimeSpan.FromSeconds(1);
        o.RefreshInterval = TimeSpan.FromMilliseconds(50);
    });
}

await using var provider = services.BuildServiceProvider();
var client = provider.GetRequiredService<IChatCompletionsClient>();
var store = provider.GetService<RedisEndpointStateStore>();
if (store is not null)
{
    while (!store.IsShared)
    {
        if (deadline.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("fleet instance: never connected to Redis. " + string.Join(" | ", warnings.Lines));
            return 4;
        }

        await Task.Delay(10, CancellationToken.None);
    }
}

if (arguments.WarmUpUrl is not null)
{
    // A process that starts calling cold sends its first requests a few hundred milliseconds after the fleet's budget
    // admitted them (the JIT), and they reach the provider bunched; a fleet that has been running does not. The same
    // path (paced, through Redis), on another endpoint: its budget in Redis is another key.
    var warmUp = provider.GetRequiredKeyedService<IChatCompletionsClient>("warm-up");
    for (var i = 0; i < 3; i++)
    {
        await warmUp.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("Say hello")]), deadline.Token);
    }
}

Console.WriteLine("ready");
var line = await Console.In.ReadLineAsync(deadline.Token);
if (line != "go")
{
    await Console.Error.WriteLineAsync($"fleet instance: expected 'go' on stdin, read '{line}'.");
    return 5;
}

var failures = new Dictionary<string, int>(StringComparer.Ordinal);
var succeeded = 0;
var endedWhileLocal = 0; // calls that ended while Redis was out for this instance (it paced alone then)
var warningsBefore = new Dictionary<string, int>(warnings.Counts, StringComparer.Ordinal);
var started = Stopwatch.StartNew();
var workers = Enumerable.Range(0, arguments.Workers).Select(worker => Task.Run(async () =>
{
    // The calls split as evenly as they go: the first (calls % workers) workers make one more.
    var calls = (arguments.Calls / arguments.Workers) + (worker < arguments.Calls % arguments.Workers ? 1 : 0);
    for (var i = 0; i < calls; i++)
    {
        string? failure = null;
        try
        {
            await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("Say hello")]), deadline.Token);
        }
        catch (LlmException ex)
        {
            failure = ex.Kind.ToString();
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            failure = "DeadlineReached";
        }

        var local = store is { IsShared: false };
        lock (failures)
        {
            endedWhileLocal += local ? 1 : 0;
            if (failure is null)
            {
                succeeded++;
            }
            else
            {
                failures[failure] = failures.GetValueOrDefault(failure) + 1;
            }
        }
    }
})).ToArray();
await Task.WhenAll(workers);
var elapsed = started.Elapsed;

using (var output = Console.OpenStandardOutput())
using (var json = new Utf8JsonWriter(output))
{
    json.WriteStartObject();
    json.WriteNumber("succeeded", succeeded);
    json.WriteNumber("failed", failures.Values.Sum());
    json.WriteStartObject("failures");
    foreach (var (kind, count) in failures)
    {
        json.WriteNumber(kind, count);
    }

    json.WriteEndObject();
    json.WriteNumber("elapsedMs", Math.Round(elapsed.TotalMilliseconds, 1));
    json.WriteBoolean("redis", store is not null);
    json.WriteBoolean("shared", store?.IsShared ?? false);
    json.WriteNumber("endedWhileLocal", endedWhileLocal);
    // Logged from "go" on (a slow first connection to Redis before "ready" is logged as an outage too).
    json.WriteStartObject("warnings");
    foreach (var (name, count) in warnings.Counts)
    {
        if (count > warningsBefore.GetValueOrDefault(name))
        {
            json.WriteNumber(name, count - warningsBefore.GetValueOrDefault(name));
        }
    }

    json.WriteEndObject();
    json.WriteStartArray("log");
    foreach (var warning in warnings.Lines)
    {
        json.WriteStringValue(warning);
    }

    json.WriteEndArray();
    json.WriteEndObject();
    json.Flush();
    output.Write("\n"u8);
}

return 0;

// One endpoint paced to --rpm, as an app of the fleet configures it; millisecond-scale retries, as in the in-process
// tests (the provider's hints, x-ratelimit-reset, set the waits).
void Configure(LlmClientOptions o, Uri baseUrl)
{
    o.BaseAddress = baseUrl;
    o.Model = "test-model";
    o.Resilience = new LlmResilienceOptions
    {
        MaxRetryAttempts = 4,
        BaseDelay = TimeSpan.FromMilliseconds(40),
        MaxDelay = TimeSpan.FromMilliseconds(200),
        MaxRetryAfter = TimeSpan.FromSeconds(10),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        AttemptTimeout = TimeSpan.FromSeconds(5),
        FirstTokenTimeout = TimeSpan.FromSeconds(5),
        StreamIdleTimeout = TimeSpan.FromSeconds(5),
        TotalTimeout = TimeSpan.FromSeconds(20),
    };
    o.Endpoints.Add(new LlmEndpoint { Name = "only", BaseAddress = baseUrl, ApiKey = arguments.ApiKey, RequestsPerMinute = arguments.RequestsPerMinute });
}
