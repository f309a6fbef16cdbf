using System.Globalization;
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
        using var typedOnPlain = new ChatCompletionsClient(new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan },
            clientOptions, NullLogger.Instance, ownsHttpClient: true);
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
        Console.WriteLine("| Stack (non-streamed call) | B/call | vs Bare |");
        Console.WriteLine("|---|---:|---:|");
        double bare = 0;
        foreach (var (name, call) in stacks)
        {
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

            var bytes = batches.Order().ElementAt(2);
            bare = bare == 0 ? bytes : bare;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {bytes:F0} | {bytes / bare:F2} |"));
        }

        return 0;
    }

    private static HttpClient HttpClientOf(BenchClients clients, ClientKind kind) => clients.HttpClientFor(kind);
}
