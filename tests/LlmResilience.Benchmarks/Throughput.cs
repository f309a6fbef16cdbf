using LlmResilience.Chat;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace LlmResilience.Benchmarks;

/// <summary>
/// <c>--throughput</c>: N concurrent callers (32 by default) making non-streamed calls back to back through one client
/// for a fixed time, each client in turn, the order rotated every round, after a warm-up of each client with the same
/// load. Every client is registered in one <see cref="ServiceCollection"/> the way a user would (IHttpClientFactory,
/// <c>AddChatCompletionsClient</c>) and resolved once, as a singleton or a typed client holds its HttpClient.
/// </summary>
/// <remarks>
/// Per client and round: requests per second; process CPU time per request (<see cref="Process.TotalProcessorTime"/>
/// delta / requests), which includes the in-process server, so the server's threads are also measured (each reads its
/// own CPU clock after every request, <see cref="LoopbackServer.CpuNanoseconds"/>), as is the runtime's background JIT
/// thread (<c>/proc/self/task/*/schedstat</c>), and both are subtracted to give the client's CPU per request; allocated bytes
/// per request (<see cref="GC.GetTotalAllocatedBytes"/> delta minus the server threads' bytes); thread-pool work items,
/// lock contentions and gen0 GCs per request; and the JIT's time in the round (<see cref="System.Runtime.JitInfo"/>),
/// which shows whether the warm-up was long enough. On 2 cores the callers keep both cores busy, so requests per second
/// is about the CPU the machine gives the process divided by the CPU per request: CPU per request is the figure that
/// matters, throughput follows it and whatever else the machine runs. <c>--round-times</c> writes each round's
/// CLOCK_MONOTONIC window to stderr, for slicing a <c>perf record -k CLOCK_MONOTONIC</c> profile per client
/// (<c>profiling/perf-throughput.sh</c>).
/// </remarks>
internal static class Throughput
{
    /// <summary>The clients run when <c>--clients</c> is not given, in this order (the first is the baseline).</summary>
    private static readonly string[] DefaultClients = ["BareFactory", "PollyFactory", "OursDI", "HandlerOnlyDI", "OursDINoLoggers"];

    public static int Run(int callers, int rounds, double seconds, double warmupSeconds, string? only, bool roundTimes = false)
    {
        using var server = LoopbackServer.Start(measureCpu: true);
        using var clients = new ThroughputClients(server.BaseAddress);
        var names = only is null ? DefaultClients : only.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var calls = names.Select(clients.Get).ToArray();

        Console.WriteLine($"Throughput run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
            $"GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}{(System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.Batch ? " non-concurrent" : string.Empty)}, " +
            $"pid {Environment.ProcessId}");
        Console.WriteLine($"{callers} callers, non-streamed calls, {rounds} rounds of {seconds} s per client, rotating order, after {warmupSeconds} s of warm-up per client");

        // Each client answers correctly before anything is measured.
        for (var k = 0; k < names.Length; k++)
        {
            var length = calls[k]().GetAwaiter().GetResult();
            if (length != Payloads.CompletionContent.Length)
            {
                Console.Error.WriteLine($"{names[k]}: content of {length} chars, expected {Payloads.CompletionContent.Length}");
                return 1;
            }
        }

        // Warm-up, by time, each client under the measured load: tiered JIT with dynamic PGO, the thread pool's size,
        // GC budgets and the 32 connections of each pool.
        for (var k = 0; k < names.Length; k++)
        {
            var warm = Measure(calls[k], callers, warmupSeconds, server);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up {names[k]}: {warm.Requests} requests in {warm.Seconds:F1} s ({warm.RequestsPerSecond:F0}/s, {warm.ProcessCpuMicros:F1} µs CPU/request, JIT {warm.JitMilliseconds:F0} ms for {warm.JitMethods} methods)"));
        }

        Thread.Sleep(500); // lets the background JIT finish its queue

        var results = names.Select(_ => new List<RoundResult>()).ToArray();
        Console.WriteLine();
        Console.WriteLine("| Round | Client | Requests/s | CPU µs/req (process) | server µs/req | background JIT µs/req | client µs/req | B/req | work items/req | lock contentions/1k req | gen0 GCs/1k req | JIT ms (methods) |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var r = 0; r < rounds; r++)
        {
            for (var j = 0; j < names.Length; j++)
            {
                var k = (r + j) % names.Length;
                var result = Measure(calls[k], callers, seconds, server);
                results[k].Add(result);
                if (roundTimes)
                {
                    // CLOCK_MONOTONIC seconds (Stopwatch's clock on Linux), as `perf record -k CLOCK_MONOTONIC` stamps its samples.
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"# window {names[k]} {r + 1} {(double)result.Start / Stopwatch.Frequency:F6} {(double)result.End / Stopwatch.Frequency:F6} {result.Requests}"));
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r + 1} | {names[k]} | {result.RequestsPerSecond:F0} | {result.ProcessCpuMicros:F1} | {result.ServerCpuMicros:F1} | {result.BackgroundJitCpuMicros:F1} | {result.ClientCpuMicros:F1} | " +
                    $"{result.BytesPerRequest:F0} | {result.WorkItemsPerRequest:F2} | {result.ContentionsPer1k:F2} | {result.Gen0Per1k:F2} | {result.JitMilliseconds:F0} ({result.JitMethods}) |"));
            }
        }

        Summarize(names, results);
        Console.WriteLine();
        Console.WriteLine(server.Describe());
        return 0;
    }

    private static void Summarize(string[] names, List<RoundResult>[] results)
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        var rounds = results[0].Count;
        var rps = results.Select(rs => Median(rs.Select(r => r.RequestsPerSecond))).ToArray();
        var cpu = results.Select(rs => Median(rs.Select(r => r.ProcessCpuMicros))).ToArray();
        var clientCpu = results.Select(rs => Median(rs.Select(r => r.ClientCpuMicros))).ToArray();
        // The server does the same work for every request, so its CPU per request measures how slow the machine was
        // in that round (other processes' load, cache and steal); the client's CPU in units of it is steadier.
        var normalized = results.Select(rs => Median(rs.Select(r => r.ClientCpuMicros / r.ServerCpuMicros))).ToArray();
        var bytes = results.Select(rs => Median(rs.Select(r => r.BytesPerRequest))).ToArray();

        // The same rounds side by side: within a round every client met about the same machine, so the ratio per round
        // and its median are steadier than the ratio of the medians.
        double PairedRatio(int k, Func<RoundResult, double> measure) =>
            Median(Enumerable.Range(0, rounds).Select(r => measure(results[k][r]) / measure(results[0][r])));

        Console.WriteLine();
        Console.WriteLine($"Throughput, median of {rounds} rounds (ratios to {names[0]}; \"paired\" = median of the per-round ratios):");
        Console.WriteLine();
        Console.WriteLine("| Client | Requests/s (median) | vs " + names[0] + " | paired | Requests/s per round |");
        Console.WriteLine("|---|---:|---:|---:|---|");
        for (var k = 0; k < names.Length; k++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {names[k]} | {rps[k]:F0} | {rps[k] / rps[0]:F2} | {PairedRatio(k, r => r.RequestsPerSecond):F2} | {string.Join(", ", results[k].Select(r => r.RequestsPerSecond.ToString("F0", CultureInfo.InvariantCulture)))} |"));
        }

        Console.WriteLine();
        Console.WriteLine($"CPU and allocations per request, median of {rounds} rounds (process = everything in the process, the loopback server included; client = process minus the server's threads and the background JIT thread; client / server = the client's CPU per request in units of the server's, per round, which takes out how busy the machine was):");
        Console.WriteLine();
        Console.WriteLine("| Client | CPU µs/req (process) | vs " + names[0] + " | client µs/req | vs " + names[0] + " | paired | client µs/req per round | client / server CPU | vs " + names[0] + " | B/req | vs " + names[0] + " | work items/req | lock contentions/1k req | gen0 GCs/1k req | JIT ms per round |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var k = 0; k < names.Length; k++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {names[k]} | {cpu[k]:F1} | {cpu[k] / cpu[0]:F2} | {clientCpu[k]:F1} | {clientCpu[k] / clientCpu[0]:F2} | {PairedRatio(k, r => r.ClientCpuMicros):F2} | " +
                $"{string.Join(", ", results[k].Select(r => r.ClientCpuMicros.ToString("F1", CultureInfo.InvariantCulture)))} | " +
                $"{normalized[k]:F2} | {normalized[k] / normalized[0]:F2} | {bytes[k]:F0} | {bytes[k] / bytes[0]:F2} | {Median(results[k].Select(r => r.WorkItemsPerRequest)):F2} | " +
                $"{Median(results[k].Select(r => r.ContentionsPer1k)):F2} | {Median(results[k].Select(r => r.Gen0Per1k)):F2} | " +
                $"{string.Join(", ", results[k].Select(r => r.JitMilliseconds.ToString("F0", CultureInfo.InvariantCulture)))} |"));
        }
    }

    /// <summary>Runs <paramref name="callers"/> loops of back-to-back calls for <paramref name="seconds"/>, then waits for the calls in flight.</summary>
    private static RoundResult Measure(Func<Task<int>> call, int callers, double seconds, LoopbackServer server)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var stop = new StopFlag();
        var counts = new long[callers * 16]; // one cache line per caller
        var process = Process.GetCurrentProcess();

        var serverCpu0 = server.CpuNanoseconds;
        var jitCpu0 = BackgroundJitCpu();
        var serverBytes0 = server.AllocatedBytes;
        var serverRequests0 = server.Requests;
        var gen0 = GC.CollectionCount(0);
        var contentions = Monitor.LockContentionCount;
        var workItems = ThreadPool.CompletedWorkItemCount;
        var jitTime = System.Runtime.JitInfo.GetCompilationTime();
        var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
        var bytes0 = GC.GetTotalAllocatedBytes(precise: true);
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();

        var tasks = new Task[callers];
        for (var i = 0; i < callers; i++)
        {
            tasks[i] = CallerAsync(call, stop, counts, i * 16);
        }

        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        stop.Stopped = true;
        Task.WaitAll(tasks);

        var end = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(start, end);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpu0;
        var bytes = GC.GetTotalAllocatedBytes(precise: true) - bytes0;
        workItems = ThreadPool.CompletedWorkItemCount - workItems;
        contentions = Monitor.LockContentionCount - contentions;
        gen0 = GC.CollectionCount(0) - gen0;
        jitTime = System.Runtime.JitInfo.GetCompilationTime() - jitTime;
        jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods;
        var serverCpu = server.CpuNanoseconds - serverCpu0;
        var backgroundJitCpu = CpuNanosecondsBetween(jitCpu0, BackgroundJitCpu());
        var serverBytes = server.AllocatedBytes - serverBytes0;
        var serverRequests = server.Requests - serverRequests0;

        var requests = counts.Sum();
        if (requests != serverRequests)
        {
            Console.Error.WriteLine($"warning: {requests} calls completed, the server answered {serverRequests}");
        }

        return new RoundResult(
            start,
            end,
            requests,
            elapsed.TotalSeconds,
            cpu.TotalMicroseconds / requests,
            serverCpu / 1000.0 / requests,
            backgroundJitCpu / 1000.0 / requests,
            (double)(bytes - serverBytes) / requests,
            (double)workItems / requests,
            contentions * 1000.0 / requests,
            gen0 * 1000.0 / requests,
            jitTime.TotalMilliseconds,
            jitMethods);
    }

    private static async Task CallerAsync(Func<Task<int>> call, StopFlag stop, long[] counts, int slot)
    {
        await Task.Yield(); // every caller on the thread pool, all at once
        var n = 0L;
        while (!stop.Stopped)
        {
            await call();
            n++;
        }

        counts[slot] = n;
    }

    /// <summary>
    /// The scheduler's run time in ns (<c>/proc/self/task/TID/schedstat</c>) of the runtime's background JIT threads
    /// (<c>.NET Tiered Compilation Worker</c>, which Linux keeps as <c>.NET Tiered Com</c>), keyed by thread id and start
    /// time (the worker ends when idle and a new one may get a used id); empty where there is no /proc.
    /// </summary>
    private static Dictionary<(string Id, string Start), long> BackgroundJitCpu()
    {
        const string Tasks = "/proc/self/task";
        var times = new Dictionary<(string, string), long>();
        if (!Directory.Exists(Tasks))
        {
            return times;
        }

        foreach (var task in Directory.EnumerateDirectories(Tasks))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered", StringComparison.Ordinal))
                {
                    continue;
                }

                // stat: "pid (comm) state ppid ..."; the start time is the 22nd field, the 20th after the ')'.
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var startTime = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
                var schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                times[(Path.GetFileName(task), startTime)] = long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return times;
    }

    /// <summary>Run time between two snapshots: a thread that started meanwhile counts from zero, one that ended is left out.</summary>
    private static long CpuNanosecondsBetween(Dictionary<(string, string), long> before, Dictionary<(string, string), long> after) =>
        after.Sum(thread => thread.Value - before.GetValueOrDefault(thread.Key));

    private sealed class StopFlag
    {
        private volatile bool _stopped;

        public bool Stopped
        {
            get => _stopped;
            set => _stopped = value;
        }
    }

    private sealed record RoundResult(
        long Start,
        long End,
        long Requests,
        double Seconds,
        double ProcessCpuMicros,
        double ServerCpuMicros,
        double BackgroundJitCpuMicros,
        double BytesPerRequest,
        double WorkItemsPerRequest,
        double ContentionsPer1k,
        double Gen0Per1k,
        double JitMilliseconds,
        long JitMethods)
    {
        public double RequestsPerSecond => Requests / Seconds;

        public double ClientCpuMicros => ProcessCpuMicros - ServerCpuMicros - BackgroundJitCpuMicros;
    }
}

/// <summary>
/// The clients of <c>--throughput</c>, all from one <see cref="ServiceCollection"/> as a user would register them, each
/// resolved once (a singleton, or an HttpClient held as a typed client holds it).
/// </summary>
internal sealed class ThroughputClients : IDisposable
{
    private readonly BenchClients _bench;
    private readonly ServiceProvider _provider;
    private readonly ChatCompletionRequest _request = new([ChatMessage.System(Payloads.SystemPrompt), ChatMessage.User(Payloads.UserPrompt)]);
    private readonly Dictionary<string, Func<Task<int>>> _calls;

    public ThroughputClients(Uri serverAddress)
    {
        _bench = new BenchClients(serverAddress);
        var v1 = new Uri(serverAddress, "v1/");
        void Configure(LlmClientOptions o) => (o.BaseAddress, o.ApiKey, o.Model, o.AllowInsecureHttp) = (v1, "sk-bench", Payloads.Model, true);

        var services = new ServiceCollection();
        // The baseline: a named client with the factory's defaults (its primary handler, its logging handlers, the
        // 100 s HttpClient.Timeout).
        services.AddHttpClient("bare");
        // The same with a plain Polly.Core pipeline around SendAsync: what a user writes instead of a library.
        services.AddHttpClient("polly").AddHttpMessageHandler(() => new PlainPollyHandler());
        // The cost of one more async layer and nothing else: a DelegatingHandler that awaits the one below it.
        services.AddHttpClient("layer").AddHttpMessageHandler(() => new AwaitingHandler());
        services.AddHttpClient("h").AddLlmResilienceHandler();
        services.AddChatCompletionsClient(Configure);
        services.AddChatCompletionsClient("quiet", Configure).RemoveAllLoggers();
        _provider = services.BuildServiceProvider();

        var factory = _provider.GetRequiredService<IHttpClientFactory>();
        var bare = factory.CreateClient("bare");
        var polly = factory.CreateClient("polly");
        var layer = factory.CreateClient("layer");
        var handlerOnly = factory.CreateClient("h");
        var ours = _provider.GetRequiredService<IChatCompletionsClient>();
        var quiet = _provider.GetRequiredKeyedService<IChatCompletionsClient>("quiet");

        _calls = new Dictionary<string, Func<Task<int>>>(StringComparer.OrdinalIgnoreCase)
        {
            ["BareFactory"] = () => _bench.BareCompleteAsync(bare),
            ["PollyFactory"] = () => _bench.BareCompleteAsync(polly),
            ["OursDI"] = () => CompleteAsync(ours),
            ["HandlerOnlyDI"] = () => _bench.BareCompleteAsync(handlerOnly),
            ["OursDINoLoggers"] = () => CompleteAsync(quiet),
            // Not in the default set; for comparisons by hand (--clients).
            ["BarePlain"] = () => _bench.BareCompleteAsync(_bench.HttpClientFor(ClientKind.Bare)),
            ["OursCreate"] = () => _bench.CompleteAsync(ClientKind.Ours),
            ["OneLayerFactory"] = () => _bench.BareCompleteAsync(layer),
        };
    }

    public Func<Task<int>> Get(string name) => _calls.TryGetValue(name, out var call) ? call
        : throw new ArgumentException($"Unknown client '{name}'; known: {string.Join(", ", _calls.Keys)}.", nameof(name));

    public void Dispose()
    {
        _provider.Dispose();
        _bench.Dispose();
    }

    private async Task<int> CompleteAsync(IChatCompletionsClient client) => (await client.CompleteAsync(_request)).Content!.Length;

    /// <summary>One async layer that does nothing but await the handler below it.</summary>
    private sealed class AwaitingHandler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A plain Polly.Core pipeline in a small DelegatingHandler: retry (4 attempts more, on transport failures, 429 and
    /// 5xx) around a 30 s timeout, built once and shared; the state overload, so no closure per call.
    /// </summary>
    private sealed class PlainPollyHandler : DelegatingHandler
    {
        private static readonly ResiliencePipeline<HttpResponseMessage> Pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = 4,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(static r => r.StatusCode == HttpStatusCode.TooManyRequests || (int)r.StatusCode >= 500),
            })
            .AddTimeout(TimeSpan.FromSeconds(30))
            .Build();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            await Pipeline.ExecuteAsync(
                static (state, token) => new ValueTask<HttpResponseMessage>(state.Handler.SendInnerAsync(state.Request, token)),
                (Handler: this, Request: request),
                cancellationToken).ConfigureAwait(false);

        private Task<HttpResponseMessage> SendInnerAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            base.SendAsync(request, cancellationToken);
    }
}
