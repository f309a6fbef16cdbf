using System.Diagnostics;
using System.Globalization;

namespace LlmResilience.Benchmarks;

/// <summary>
/// <c>--interleaved</c>: latency percentiles with the clients alternating call by call (the order rotated every round),
/// so that whatever noise the machine makes falls on all of them alike; then allocations per call, measured over
/// batches of one client with <see cref="GC.GetTotalAllocatedBytes(bool)"/> (precise, process-wide: a call's
/// continuations run on thread-pool threads, which a per-thread counter would miss) minus what the loopback server's
/// threads allocated meanwhile (measured per thread; zero in practice).
/// </summary>
internal static class Interleaved
{
    private static ClientKind[] Kinds = Enum.GetValues<ClientKind>();

    public static async Task<int> RunAsync(int rounds, int streamRounds, int warmupSeconds, string? only = null)
    {
        if (only is not null)
        {
            Kinds = [.. only.Split(',').Select(Enum.Parse<ClientKind>)];
        }

        using var server = LoopbackServer.Start();
        using var clients = new BenchClients(server.BaseAddress);
        Console.WriteLine($"Interleaved run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
            $"GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
        var warmup = TimeSpan.FromSeconds(warmupSeconds);
        await SectionAsync("Non-streaming (one chat completion per call)", rounds, warmup, 1, server, clients.CompleteAsync);
        await SectionAsync($"Streaming (one streamed completion per call, {Payloads.ChunksPerStream} chunks)", streamRounds, warmup, Payloads.ChunksPerStream, server, k => clients.StreamAsync(k));
        Console.WriteLine(server.Describe());
        return 0;
    }

    private static async Task SectionAsync(string title, int rounds, TimeSpan warmupTime, int chunksPerCall, LoopbackServer server, Func<ClientKind, Task<int>> call)
    {
        // Warm-up, by time: on this 2-core VM a client takes 10-20 s of back-to-back calls to settle (tiered JIT with
        // dynamic PGO, thread pool, GC budgets); measured before that, latency is 2-5x what it settles at.
        var warmup = 0;
        var warmupEnd = Stopwatch.GetTimestamp() + (long)(warmupTime.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warmupEnd)
        {
            foreach (var kind in Kinds)
            {
                await call(kind);
            }

            warmup++;
        }

        await Task.Delay(500); // lets the background JIT finish its queue

        var latencies = Kinds.Select(_ => new long[rounds]).ToArray();
        for (var r = 0; r < rounds; r++)
        {
            for (var j = 0; j < Kinds.Length; j++)
            {
                var k = (r + j) % Kinds.Length;
                var start = Stopwatch.GetTimestamp();
                await call(Kinds[k]);
                latencies[k][r] = Stopwatch.GetTimestamp() - start;
            }
        }

        // Allocations: 3 batches per client, alternating; the median batch counts.
        var batch = Math.Max(100, rounds / 10);
        var bytes = Kinds.Select(_ => new List<double>()).ToArray();
        for (var repeat = 0; repeat < 3; repeat++)
        {
            for (var k = 0; k < Kinds.Length; k++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var serverBefore = server.AllocatedBytes;
                var before = GC.GetTotalAllocatedBytes(precise: true);
                for (var i = 0; i < batch; i++)
                {
                    await call(Kinds[k]);
                }

                var after = GC.GetTotalAllocatedBytes(precise: true);
                bytes[k].Add((after - before - (server.AllocatedBytes - serverBefore)) / (double)batch);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"## {title}: {rounds} interleaved rounds after {warmup} warm-up rounds; allocations: median of 3 batches of {batch} calls");
        Console.WriteLine();
        Console.WriteLine("| Client | p50 (µs) | p90 (µs) | p99 (µs) | p50 / Bare | p50 / SDK | Allocated B/call | B/call / Bare | B/call / SDK |" + (chunksPerCall > 1 ? " B/chunk |" : ""));
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|" + (chunksPerCall > 1 ? "---:|" : ""));
        var p50 = new double[Kinds.Length];
        var alloc = new double[Kinds.Length];
        for (var k = 0; k < Kinds.Length; k++)
        {
            Array.Sort(latencies[k]);
            p50[k] = Micros(Percentile(latencies[k], 0.50));
            alloc[k] = bytes[k].Order().ElementAt(1);
        }

        var bare = Math.Max(0, Array.IndexOf(Kinds, ClientKind.Bare));
        var sdk = Math.Max(0, Array.IndexOf(Kinds, ClientKind.OpenAiSdk));
        for (var k = 0; k < Kinds.Length; k++)
        {
            var line = string.Create(CultureInfo.InvariantCulture,
                $"| {Kinds[k]} | {p50[k]:F1} | {Micros(Percentile(latencies[k], 0.90)):F1} | {Micros(Percentile(latencies[k], 0.99)):F1} | " +
                $"{p50[k] / p50[bare]:F2} | {p50[k] / p50[sdk]:F2} | {alloc[k]:F0} | {alloc[k] / alloc[bare]:F2} | {alloc[k] / alloc[sdk]:F2} |");
            if (chunksPerCall > 1)
            {
                line += string.Create(CultureInfo.InvariantCulture, $" {alloc[k] / chunksPerCall:F0} |");
            }

            Console.WriteLine(line);
        }
    }

    private static long Percentile(long[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
