using System.Diagnostics;
using System.Globalization;
using LlmResilience.Chat;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmResilience.Benchmarks;

/// <summary>
/// <c>--attribution</c>: where the pipeline's allocations go. Non-streamed calls through stacks that add one layer at a
/// time (the connection layer alone, then the resilience handler without and with retries, then the typed client on a
/// plain handler and on the whole pipeline); bytes per call as in <c>--interleaved</c> (process-wide, precise, minus the
/// server's threads), the median of five batches after a warm-up.
/// </summary>
internal static class Attribution
{
    public static async Task<int> RunAsync(int warmupSeconds)
    {
        using var server = LoopbackServer.Start();
        using var clients = new BenchClients(server.BaseAddress);
        var v1 = new Uri(server.BaseAddress, "v1/");
        var noRetry = new LlmResilienceOptions { MaxRetryAttempts = 0 };
        var defaults = new LlmResilienceOptions();

        using var connectionsOnly = new HttpClient(new RecyclingConnectionHandler(defaults, NullLogger.Instance)) { Timeout = Timeout.InfiniteTimeSpan };
        using var handlerNoRetry = new HttpClient(new LlmResilienceHandler(noRetry, TimeProvider.System, NullLogger.Instance)
        {
            InnerHandler = new RecyclingConnectionHandler(noRetry, NullLogger.Instance),
        }) { Timeout = Timeout.InfiniteTimeSpan };
        using var handlerFull = new HttpClient(new LlmResilienceHandler(defaults, TimeProvider.System, NullLogger.Instance)
        {
            InnerHandler = new RecyclingConnectionHandler(defaults, NullLogger.Instance),
        }) { Timeout = Timeout.InfiniteTimeSpan };
        var clientOptions = new LlmClientOptions { BaseAddress = v1, ApiKey = "sk-bench", Model = Payloads.Model, AllowInsecureHttp = true };
        var plain = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        using var typedOnPlain = new ChatCompletionsClient(plain, clientOptions, null,
            new ChatCompletionsClient.ClientServices(TimeProvider.System, NullLogger.Instance, new LlmMetrics(null), new InMemoryEndpointStateStore()), plain);
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o => (o.BaseAddress, o.ApiKey, o.Model, o.AllowInsecureHttp) = (v1, "sk-bench", Payloads.Model, true));
        services.AddChatCompletionsClient("quiet", o => (o.BaseAddress, o.ApiKey, o.Model, o.AllowInsecureHttp) = (v1, "sk-bench", Payloads.Model, true))
            .RemoveAllLoggers();
        using var provider = services.BuildServiceProvider();
        var fromDi = provider.GetRequiredService<IChatCompletionsClient>();
        var fromDiQuiet = provider.GetRequiredKeyedService<IChatCompletionsClient>("quiet");
        var request = new ChatCompletionRequest([ChatMessage.System(Payloads.SystemPrompt), ChatMessage.User(Payloads.UserPrompt)]);

        (string Name, Func<Task<int>> Call)[] stacks =
        [
            ("Bare: HttpClient + SocketsHttpHandler, bare JSON", () => clients.BareCompleteAsync(HttpClientOf(clients, ClientKind.Bare))),
            ("+ RecyclingConnectionHandler instead of SocketsHttpHandler", () => clients.BareCompleteAsync(connectionsOnly)),
            ("+ LlmResilienceHandler, MaxRetryAttempts = 0", () => clients.BareCompleteAsync(handlerNoRetry)),
            ("+ LlmResilienceHandler, defaults (retry)", () => clients.BareCompleteAsync(handlerFull)),
            ("ChatCompletionsClient on a plain SocketsHttpHandler", async () => (await typedOnPlain.CompleteAsync(request)).Content!.Length),
            ("ChatCompletionsClient.Create (the whole library)", () => clients.CompleteAsync(ClientKind.Ours)),
            ("AddChatCompletionsClient (DI: IHttpClientFactory and its logging handlers)", async () => (await fromDi.CompleteAsync(request)).Content!.Length),
            ("AddChatCompletionsClient(...).RemoveAllLoggers()", async () => (await fromDiQuiet.CompleteAsync(request)).Content!.Length),
        ];

        Console.WriteLine($"Attribution run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine();
        var allocated = new double[stacks.Length];
        for (var k = 0; k < stacks.Length; k++)
        {
            var call = stacks[k].Call;
            var end = DateTime.UtcNow.AddSeconds(warmupSeconds);
            while (DateTime.UtcNow < end)
            {
                await call();
            }

            var batches = new List<double>();
            for (var b = 0; b < 5; b++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var serverBefore = server.AllocatedBytes;
                var before = GC.GetTotalAllocatedBytes(precise: true);
                for (var i = 0; i < 500; i++)
                {
                    await call();
                }

                batches.Add((GC.GetTotalAllocatedBytes(precise: true) - before - (server.AllocatedBytes - serverBefore)) / 500.0);
            }

            allocated[k] = batches.Order().ElementAt(2);
        }

        // Latency: the stacks alternate call by call (order rotated each round), so noise falls on all alike.
        const int Rounds = 2000;
        var latencies = stacks.Select(_ => new long[Rounds]).ToArray();
        for (var r = 0; r < Rounds; r++)
        {
            for (var j = 0; j < stacks.Length; j++)
            {
                var k = (r + j) % stacks.Length;
                var start = Stopwatch.GetTimestamp();
                await stacks[k].Call();
                latencies[k][r] = Stopwatch.GetTimestamp() - start;
            }
        }

        Console.WriteLine("| Stack (non-streamed call) | B/call | vs Bare | p50 (µs) | p50 vs Bare |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double bareP50 = 0;
        for (var k = 0; k < stacks.Length; k++)
        {
            Array.Sort(latencies[k]);
            var p50 = latencies[k][Rounds / 2] * 1_000_000.0 / Stopwatch.Frequency;
            bareP50 = k == 0 ? p50 : bareP50;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {stacks[k].Name} | {allocated[k]:F0} | {allocated[k] / allocated[0]:F2} | {p50:F1} | {p50 / bareP50:F2} |"));
        }

        return 0;
    }

    private static HttpClient HttpClientOf(BenchClients clients, ClientKind kind) => clients.HttpClientFor(kind);
}
