using System.Diagnostics;
using System.Globalization;
using LlmResilience.Chat;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace LlmResilience.Benchmarks;

/// <summary>
/// <c>--redis</c>: what coordination through Redis (<c>AddLlmRedisCoordination</c>) adds to a call, against local
/// pacing. Four DI-registered clients on the loopback server, each in a container of its own (one endpoint each):
/// (1) no pacing, (2) paced locally with limits so high it never waits, (3) the same paced through Redis, (4) no pacing
/// with Redis coordination (outages shared only). Measured as <c>--interleaved</c> measures: a time-based warm-up, then
/// rounds alternating the clients (the order rotated every round) for p50/p90/p99, then allocated bytes per call over
/// batches of one client (<see cref="GC.GetTotalAllocatedBytes(bool)"/>, precise, process-wide, minus the loopback
/// server's bytes), and the Redis commands each client caused per call, from <c>INFO commandstats</c> (the server's
/// own count, read before and after every phase and batch).
/// </summary>
/// <remarks>
/// The run checks that (3) went through Redis and never fell back to local pacing: the scripts Redis ran
/// (<c>EVALSHA</c> + <c>EVAL</c>) must equal (3)'s calls in every phase and batch, exactly, and be 0 in the batches of
/// the other clients; both Redis stores must still be sharing (<c>IsShared</c>) at the end of each phase; and the
/// budget's two keys must exist. A failed check prints the table anyway, then the failure, and exits with 1.
/// </remarks>
internal static class RedisCost
{
    private const int Unpaced = 0;
    private const int PacedLocal = 1;
    private const int PacedRedis = 2;
    private const int UnpacedRedis = 3;

    // So high a budget never waits: what is measured is taking from it, not waiting for it.
    private const int NeverWaits = 100_000_000;

    private static readonly string[] Names = ["(1) unpaced", "(2) paced locally", "(3) paced through Redis", "(4) unpaced, Redis coordination"];

    private static readonly ChatCompletionRequest Request =
        new([ChatMessage.System(Payloads.SystemPrompt), ChatMessage.User(Payloads.UserPrompt)]);

    public static async Task<int> RunAsync(int rounds, int warmupSeconds, int callers)
    {
        if (RedisProcess.ExecutablePath is null)
        {
            Console.Error.WriteLine(RedisProcess.MissingMessage);
            return 2;
        }

        if (rounds < 1 || callers < 1 || warmupSeconds < 0)
        {
            Console.Error.WriteLine("--rounds and --callers must be at least 1, --warmup-seconds at least 0.");
            return 2;
        }

        await using var redis = await RedisProcess.StartAsync();
        using var server = LoopbackServer.Start();
        await using var monitor = await ConnectionMultiplexer.ConnectAsync(redis.Configuration + ",allowAdmin=true");
        var redisServer = monitor.GetServer(monitor.GetEndPoints()[0]);
        var v1 = new Uri(server.BaseAddress, "v1/");

        var clients = new BenchInstance[4];
        try
        {
            clients[Unpaced] = BenchInstance.Create(v1, "unpaced", paced: false, redisConfiguration: null);
            clients[PacedLocal] = BenchInstance.Create(v1, "paced-local", paced: true, redisConfiguration: null);
            clients[PacedRedis] = BenchInstance.Create(v1, "paced-redis", paced: true, redis.Configuration);
            clients[UnpacedRedis] = BenchInstance.Create(v1, "unpaced-redis", paced: false, redis.Configuration);
            return await MeasureAsync(clients, rounds, TimeSpan.FromSeconds(warmupSeconds), callers, redis, redisServer, server);
        }
        finally
        {
            foreach (var client in clients)
            {
                if (client is not null)
                {
                    await client.DisposeAsync();
                }
            }
        }
    }

    private static async Task<int> MeasureAsync(BenchInstance[] clients, int rounds, TimeSpan warmupTime, int callers, RedisProcess redis, IServer redisServer,
        LoopbackServer server)
    {
        var failures = new List<string>();
        foreach (var client in clients)
        {
            await client.WaitUntilSharedAsync();
            var completion = await client.Client.CompleteAsync(Request);
            if (completion.Content is not { Length: > 0 })
            {
                throw new InvalidOperationException($"{client.Name} got no content from the loopback server.");
            }
        }

        Console.WriteLine($"Redis cost run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
            $"GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}; redis-server {redisServer.Version} (PID {redis.ProcessId}, port {redis.Port}); " +
            $"{callers} caller{(callers == 1 ? "" : "s")} per client");

        // Warm-up, by time, all clients in turn (tiered JIT with dynamic PGO, thread pool, GC budgets; see --interleaved).
        var stats = await CommandStats.ReadAsync(redisServer);
        var warmupRounds = 0;
        var warmupEnd = Stopwatch.GetTimestamp() + (long)(warmupTime.TotalSeconds * Stopwatch.Frequency);
        do
        {
            foreach (var client in clients)
            {
                await CallsAsync(client, callers);
            }

            warmupRounds++;
        }
        while (Stopwatch.GetTimestamp() < warmupEnd);

        stats = Check(failures, "warm-up", stats, await CommandStats.ReadAsync(redisServer), (long)warmupRounds * callers, clients);
        await Task.Delay(500); // lets the background JIT finish its queue

        // Latency: rounds alternating the clients, the order rotated every round.
        var latencies = clients.Select(_ => new long[rounds * callers]).ToArray();
        for (var r = 0; r < rounds; r++)
        {
            for (var j = 0; j < clients.Length; j++)
            {
                var k = (r + j) % clients.Length;
                await TimedCallsAsync(clients[k], callers, latencies[k], r * callers);
            }
        }

        stats = Check(failures, "latency rounds", stats, await CommandStats.ReadAsync(redisServer), (long)rounds * callers, clients);

        // Allocations and Redis commands: 3 batches per client, alternating; the median batch's bytes count.
        var batchRounds = Math.Max(Math.Max(1, 100 / callers), rounds / 10);
        var batchCalls = batchRounds * callers;
        var bytes = clients.Select(_ => new List<double>()).ToArray();
        var scripts = new long[clients.Length];
        var inScripts = new long[clients.Length];
        long scriptMicros = 0;
        var others = new long[clients.Length];
        for (var repeat = 0; repeat < 3; repeat++)
        {
            for (var k = 0; k < clients.Length; k++)
            {
                var before = await CommandStats.ReadAsync(redisServer);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var serverBefore = server.AllocatedBytes;
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                for (var i = 0; i < batchRounds; i++)
                {
                    await CallsAsync(clients[k], callers);
                }

                var allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
                var serverAfter = server.AllocatedBytes;
                var after = await CommandStats.ReadAsync(redisServer);
                bytes[k].Add((allocatedAfter - allocatedBefore - (serverAfter - serverBefore)) / (double)batchCalls);
                var (batchScripts, batchInScripts, batchOthers) = after.Since(before);
                scripts[k] += batchScripts;
                scriptMicros += after.ScriptMicrosSince(before);
                inScripts[k] += batchInScripts;
                others[k] += batchOthers;
                var expected = k == PacedRedis ? batchCalls : 0;
                if (batchScripts != expected)
                {
                    failures.Add($"{Names[k]}, batch {repeat + 1}: Redis ran {batchScripts} scripts for {batchCalls} calls, {expected} expected" +
                        (k == PacedRedis ? " (calls paced locally: Redis was not reached)" : ""));
                }
            }
        }

        CheckShared(failures, "allocation batches", clients);
        var budgetKeys = redisServer.Keys(pattern: "llmresilience:budget:*").Select(static key => key.ToString()).Order(StringComparer.Ordinal).ToList();
        if (budgetKeys.Count != 2)
        {
            failures.Add($"{budgetKeys.Count} budget keys in Redis ({string.Join(", ", budgetKeys)}), 2 expected (requests and tokens of (3)'s endpoint)");
        }

        // One bare round trip through StackExchange.Redis to this server, for scale.
        var pings = new long[1000];
        var database = redisServer.Multiplexer.GetDatabase();
        for (var i = 0; i < pings.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await database.PingAsync();
            pings[i] = Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(pings);

        Report(rounds, warmupRounds, callers, batchCalls, latencies, bytes, scripts, inScripts, others, scriptMicros, budgetKeys, pings);
        Console.WriteLine(server.Describe());
        if (failures.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("CHECK FAILED: (3) did not go through Redis on every call, or something else did:");
            foreach (var failure in failures)
            {
                Console.WriteLine("- " + failure);
            }

            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Checked: (3) ran exactly one Redis script per call in every phase ({(long)(warmupRounds + rounds) * callers + (3L * batchCalls)} calls), the other clients none; both Redis stores still sharing."));
        return 0;
    }

    private static void Report(int rounds, int warmupRounds, int callers, int batchCalls, long[][] latencies, List<double>[] bytes, long[] scripts, long[] inScripts, long[] others,
        long scriptMicros, List<string> budgetKeys, long[] pings)
    {
        var n = latencies.Length;
        var p50 = new double[n];
        var p90 = new double[n];
        var p99 = new double[n];
        var alloc = new double[n];
        for (var k = 0; k < n; k++)
        {
            Array.Sort(latencies[k]);
            p50[k] = Micros(Percentile(latencies[k], 0.50));
            p90[k] = Micros(Percentile(latencies[k], 0.90));
            p99[k] = Micros(Percentile(latencies[k], 0.99));
            alloc[k] = bytes[k].Order().ElementAt(1);
        }

        Console.WriteLine();
        Console.WriteLine($"## Per call, {(callers == 1 ? "one caller" : $"{callers} concurrent callers per client")}: {rounds} interleaved rounds after {warmupRounds} warm-up rounds; " +
            $"allocations: median of 3 batches of {batchCalls} calls; Redis commands: all 3 batches");
        Console.WriteLine();
        Console.WriteLine("| Client | p50 (µs) | p90 (µs) | p99 (µs) | p50 − (2) | p90 − (2) | p50 − (1) | B/call | B/call − (2) | B/call − (1) | Redis round trips/call | commands inside the script/call | other Redis commands/call |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var k = 0; k < n; k++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {Names[k]} | {p50[k]:F1} | {p90[k]:F1} | {p99[k]:F1} | {Signed(p50[k] - p50[PacedLocal])} | {Signed(p90[k] - p90[PacedLocal])} | {Signed(p50[k] - p50[Unpaced])} | " +
                $"{alloc[k]:F0} | {Signed(alloc[k] - alloc[PacedLocal], "F0")} | {Signed(alloc[k] - alloc[Unpaced], "F0")} | " +
                $"{scripts[k] / (3.0 * batchCalls):F2} | {inScripts[k] / (3.0 * batchCalls):F2} | {others[k] / (3.0 * batchCalls):F3} |"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Paced through Redis against paced locally: {Signed(p50[PacedRedis] - p50[PacedLocal])} µs at p50, {Signed(p90[PacedRedis] - p90[PacedLocal])} µs at p90, " +
            $"{Signed(p99[PacedRedis] - p99[PacedLocal])} µs at p99, {Signed(alloc[PacedRedis] - alloc[PacedLocal], "F0")} B per call, " +
            $"{scripts[PacedRedis] / (3.0 * batchCalls):F2} Redis round trips per call; Redis itself spent {scriptMicros / (double)Math.Max(1, scripts[PacedRedis]):F1} µs per script run (INFO commandstats)."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Unpaced with Redis coordination against unpaced: {Signed(p50[UnpacedRedis] - p50[Unpaced])} µs at p50, {Signed(alloc[UnpacedRedis] - alloc[Unpaced], "F0")} B per call, " +
            $"{scripts[UnpacedRedis] / (3.0 * batchCalls):F2} Redis round trips per call."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"A bare PING through StackExchange.Redis to the same server: p50 {Micros(Percentile(pings, 0.50)):F1} µs, p90 {Micros(Percentile(pings, 0.90)):F1} µs ({pings.Length} in a row)."));
        Console.WriteLine($"Budget keys in Redis: {string.Join(", ", budgetKeys)}. Round trips: EVALSHA/EVAL, one per script run; " +
            "the commands inside the script (TIME, HMGET, HSET, PEXPIRE) run in Redis, no round trip; other commands: the stores' background reads " +
            "(one MGET or PING a second per store), not on a call's path, counted in whichever batch they fell.");
    }

    private static string Signed(double value, string format = "F1") =>
        (value >= 0 ? "+" : "") + value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Checks a phase's Redis scripts against (3)'s calls in it, and that the Redis stores still share; returns the stats to diff the next phase against.</summary>
    private static CommandStats Check(List<string> failures, string phase, CommandStats before, CommandStats after, long pacedRedisCalls, BenchInstance[] clients)
    {
        var (scripts, _, _) = after.Since(before);
        if (scripts != pacedRedisCalls)
        {
            failures.Add($"{phase}: Redis ran {scripts} scripts, (3) made {pacedRedisCalls} calls");
        }

        CheckShared(failures, phase, clients);
        return after;
    }

    private static void CheckShared(List<string> failures, string phase, BenchInstance[] clients)
    {
        foreach (var client in clients)
        {
            if (client.Store is { IsShared: false })
            {
                failures.Add($"{phase}: {client.Name}'s Redis store fell back to local state");
            }
        }
    }

    private static async Task CallsAsync(BenchInstance client, int callers)
    {
        if (callers == 1)
        {
            await client.Client.CompleteAsync(Request);
            return;
        }

        var calls = new Task[callers];
        for (var i = 0; i < callers; i++)
        {
            calls[i] = client.Client.CompleteAsync(Request);
        }

        await Task.WhenAll(calls);
    }

    private static async Task TimedCallsAsync(BenchInstance client, int callers, long[] into, int offset)
    {
        if (callers == 1)
        {
            var start = Stopwatch.GetTimestamp();
            await client.Client.CompleteAsync(Request);
            into[offset] = Stopwatch.GetTimestamp() - start;
            return;
        }

        var calls = new Task<long>[callers];
        for (var i = 0; i < callers; i++)
        {
            calls[i] = TimedAsync(client.Client);
        }

        for (var i = 0; i < callers; i++)
        {
            into[offset + i] = await calls[i];
        }

        static async Task<long> TimedAsync(IChatCompletionsClient client)
        {
            var start = Stopwatch.GetTimestamp();
            await client.CompleteAsync(Request);
            return Stopwatch.GetTimestamp() - start;
        }
    }

    private static long Percentile(long[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>One client in a container of its own, as its own app would have it.</summary>
    private sealed class BenchInstance : IAsyncDisposable
    {
        private readonly ServiceProvider _provider;

        private BenchInstance(string name, ServiceProvider provider)
        {
            Name = name;
            _provider = provider;
            Client = provider.GetRequiredService<IChatCompletionsClient>();
            Store = provider.GetService<RedisEndpointStateStore>();
        }

        public string Name { get; }

        public IChatCompletionsClient Client { get; }

        /// <summary>The Redis store, for a client with Redis coordination.</summary>
        public RedisEndpointStateStore? Store { get; }

        public static BenchInstance Create(Uri v1, string name, bool paced, string? redisConfiguration)
        {
            var services = new ServiceCollection();
            var builder = services.AddChatCompletionsClient(o =>
            {
                o.BaseAddress = v1;
                o.Model = Payloads.Model;
                o.AllowInsecureHttp = true;
                o.Endpoints.Add(new LlmEndpoint
                {
                    Name = name,
                    BaseAddress = v1,
                    ApiKey = "sk-bench",
                    RequestsPerMinute = paced ? NeverWaits : null,
                    TokensPerMinute = paced ? NeverWaits : null,
                });
            });
            if (redisConfiguration is not null)
            {
                // A generous timeout: on a loaded machine 50 ms (the default) may pass, and the measurement would then be of local pacing.
                builder.AddLlmRedisCoordination(redisConfiguration, static o => o.OperationTimeout = TimeSpan.FromSeconds(1));
            }

            return new BenchInstance(name, services.BuildServiceProvider());
        }

        public async Task WaitUntilSharedAsync()
        {
            if (Store is null)
            {
                return;
            }

            var deadline = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
            while (!Store.IsShared)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new InvalidOperationException($"{Name} never connected to Redis (10 s).");
                }

                await Task.Delay(10);
            }
        }

        public ValueTask DisposeAsync() => _provider.DisposeAsync();
    }

    /// <summary>The calls of every command Redis ran so far, from <c>INFO commandstats</c>.</summary>
    private sealed class CommandStats
    {
        private readonly Dictionary<string, long> _calls;
        private readonly Dictionary<string, long> _micros;

        private CommandStats(Dictionary<string, long> calls, Dictionary<string, long> micros) => (_calls, _micros) = (calls, micros);

        public static async Task<CommandStats> ReadAsync(IServer server)
        {
            var text = await server.InfoRawAsync("commandstats") ?? "";
            var calls = new Dictionary<string, long>(StringComparer.Ordinal);
            var micros = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var line in text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                // cmdstat_evalsha:calls=12,usec=345,usec_per_call=28.75,rejected_calls=0,failed_calls=0
                if (!line.StartsWith("cmdstat_", StringComparison.Ordinal) || line.IndexOf(':', StringComparison.Ordinal) is not (> 0 and var colon))
                {
                    continue;
                }

                var command = line[8..colon];
                foreach (var field in line[(colon + 1)..].Split(','))
                {
                    if (field.StartsWith("calls=", StringComparison.Ordinal) && long.TryParse(field.AsSpan(6), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
                    {
                        calls[command] = count;
                    }
                    else if (field.StartsWith("usec=", StringComparison.Ordinal) && long.TryParse(field.AsSpan(5), NumberStyles.Integer, CultureInfo.InvariantCulture, out var usec))
                    {
                        micros[command] = usec;
                    }
                }
            }

            return new CommandStats(calls, micros);
        }

        /// <summary>
        /// Since <paramref name="before"/>: the scripts run (EVALSHA and EVAL: one network round trip each); the commands
        /// the pacing script runs inside Redis (Redis counts those too: TIME, HMGET, HSET, PEXPIRE; no round trip); and
        /// every other command but INFO (the benchmark's own): the stores' background reads (MGET, PING), and anything
        /// unexpected.
        /// </summary>
        public (long Scripts, long InScripts, long Others) Since(CommandStats before)
        {
            long scripts = 0;
            long inScripts = 0;
            long others = 0;
            foreach (var (command, count) in _calls)
            {
                var delta = count - before._calls.GetValueOrDefault(command);
                switch (command)
                {
                    case "evalsha" or "eval":
                        scripts += delta;
                        break;
                    case "time" or "hmget" or "hset" or "pexpire":
                        inScripts += delta;
                        break;
                    case "info":
                        break;
                    default:
                        others += delta;
                        break;
                }
            }

            return (scripts, inScripts, others);
        }

        /// <summary>The time Redis spent running scripts since <paramref name="before"/> (its own measure, µs, the commands inside included).</summary>
        public long ScriptMicrosSince(CommandStats before) =>
            _micros.GetValueOrDefault("evalsha") - before._micros.GetValueOrDefault("evalsha") + _micros.GetValueOrDefault("eval") - before._micros.GetValueOrDefault("eval");
    }
}
