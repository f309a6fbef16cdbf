using System.Diagnostics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Xunit.Abstractions;

namespace LlmResilience.Tests.Redis;

/// <summary>
/// A fleet of separate OS processes (tests/LlmResilience.Tests.FleetInstance) sharing one provider quota: FakeLlmServer
/// enforces 3000 requests per minute (over <see cref="ProviderQuotaFigures.Window"/>), and each process paces its one
/// endpoint to those 3000. With Redis they pace to it together; alone, each takes all of it.
/// </summary>
/// <remarks>
/// Alone, each instance still learns from the provider's answers (<c>x-ratelimit-remaining: 0</c> holds it off until the
/// reset), so the quota is used either way (83-101 %); what the oversubscription costs is 429s, retries and calls that
/// fail once the retry budget is spent.
/// </remarks>
[Collection(RedisCollection.Name)]
public sealed class FleetProcessTests(ITestOutputHelper output)
{
    private const int RequestsPerMinute = 3000;
    private const int Processes = 3;
    private const int CallsPerProcess = 96; // about 5 s at 50 per second
    private const int WorkersPerProcess = 8;

    [RedisFact]
    public async Task ThreeProcessesOneProviderQuota_WithRedis_AlmostNo429s_AndTheQuotaIsUsed()
    {
        await using var redis = await RedisServer.StartAsync();
        var (figures, results) = await RunAsync(redis);
        output.WriteLine($"With Redis, {Processes} processes: {figures}");

        foreach (var r in results)
        {
            Assert.True(r.Succeeded == CallsPerProcess && r.Shared && r.EndedWhileLocal == 0 && !r.Warnings.ContainsKey("RedisUnavailable"),
                $"An instance did not share all along, or not every call succeeded: {r.Succeeded} succeeded, failed {string.Join(", ", r.Failures)}, " +
                $"shared at the end {r.Shared}, {r.EndedWhileLocal} calls ended while local; logged: {string.Join(" | ", r.Log)}");
        }

        // Alone, each takes the whole quota: 37-54 429s (the test below; 36-47 on a loaded machine). Shared: 0 in every
        // run measured.
        Assert.True(figures.RateLimited <= 10, figures.ToString());
        // 98 % measured alone: the fleet's bucket refills at the quota less 2 %. The share is counted at the server, by
        // arrival, so a process the machine starves moves it both ways. In CI, with the other test assemblies (Chromium
        // among them) on the same 2 cores: one process sent its last 4 calls 0.9 s late after a steady 50/s (85 %), and
        // in another run 78 calls arrived in the first 100 ms instead of about 55, admitted earlier and sent together
        // (109 %), with 0 429s both times. Sharing that starved the fleet would show far less (each on a third: about
        // 33 %); sharing that admitted too much shows as the provider's 429s, bounded above.
        Assert.InRange(figures.ShareOfQuota, 0.75, 1.15);
    }

    [Fact]
    public async Task ThreeProcessesOneProviderQuota_WithoutRedis_TheyOversubscribeIt_Many429s()
    {
        var (figures, results) = await RunAsync(redis: null);
        output.WriteLine($"Without Redis, {Processes} processes: {figures}; calls failed: {results.Sum(r => r.Failed)} " +
            $"({string.Join(", ", results.SelectMany(r => r.Failures).GroupBy(f => f.Key).Select(g => $"{g.Key} {g.Sum(f => f.Value)}"))})");

        Assert.True(figures.RateLimited >= 20, figures.ToString()); // 37-54 measured, 36-47 on a loaded machine
    }

    /// <summary>
    /// Starts the processes (warmed up on a server of their own, so that the JIT does not hold back the first requests
    /// they are admitted), lets them call at the same moment, and reads what the provider answered.
    /// </summary>
    private async Task<(ProviderQuotaFigures Figures, FleetResult[] Results)> RunAsync(RedisServer? redis)
    {
        var total = Stopwatch.StartNew();
        await using var provider = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { RequestsPerMinute = RequestsPerMinute, RateLimitWindow = ProviderQuotaFigures.Window });
        await using var warmUp = await FakeLlmServer.StartAsync();
        var fleet = Enumerable.Range(0, Processes)
            .Select(_ => FleetProcess.Start(provider.BaseAddress, TestClients.ApiKey, RequestsPerMinute, redis?.Configuration, CallsPerProcess, WorkersPerProcess, warmUp.BaseAddress))
            .ToArray();
        try
        {
            await Task.WhenAll(fleet.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(30))));
            var startUp = total.Elapsed;
            foreach (var process in fleet)
            {
                process.Go();
            }

            var results = await Task.WhenAll(fleet.Select(p => p.ResultAsync(TimeSpan.FromSeconds(30))));
            output.WriteLine($"start-up {startUp.TotalSeconds:0.0} s, calls {results.Max(r => r.Elapsed).TotalSeconds:0.0} s");
            return (ProviderQuotaFigures.Of(provider, RequestsPerMinute), results);
        }
        finally
        {
            foreach (var process in fleet)
            {
                await process.DisposeAsync();
            }
        }
    }
}
