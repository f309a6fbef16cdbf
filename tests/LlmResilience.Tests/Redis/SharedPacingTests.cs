using System.Diagnostics;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Xunit.Abstractions;

namespace LlmResilience.Tests.Redis;

/// <summary>Two instances (two service providers) pacing one endpoint's requests per minute: with Redis they share it, alone each takes all of it.</summary>
[Collection(RedisCollection.Name)]
public sealed class SharedPacingTests(ITestOutputHelper output)
{
    // 3000 per minute: buckets of 50 (a second's share) refilled at 49 per second (2 % headroom).
    private const int RequestsPerMinute = 3000;
    private const double Capacity = 50;
    private const double PerSecond = 49;
    private const int CallsPerInstance = 75;
    private const int WorkersPerInstance = 5;

    [RedisFact]
    public async Task TwoInstancesOneRpmQuota_WithRedis_TheCombinedRateStaysAtTheQuota()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await FakeLlmServer.StartAsync();
        await using var a = await StartAsync(server, redis);
        await using var b = await StartAsync(server, redis);

        var (excess, elapsed, aDone, bDone) = await RunAsync(server, a.Client, b.Client);
        var achieved = (2 * CallsPerInstance - Capacity) / elapsed.TotalSeconds / PerSecond;
        output.WriteLine($"With Redis: {server.Requests.Count} requests in {elapsed.TotalSeconds:0.00} s; most requests beyond the quota in any window {excess:0.0}; " +
            $"rate beyond the first bucket {achieved:P0} of the quota less headroom ({PerSecond}/s); instance A done after {aDone.TotalSeconds:0.00} s, B after {bDone.TotalSeconds:0.00} s");

        Assert.Equal(2 * CallsPerInstance, server.Requests.Count);
        Assert.True(a.Store!.IsShared && b.Store!.IsShared, "Redis was not used");
        Assert.DoesNotContain(a.Logs.Entries.Concat(b.Logs.Entries), e => e.EventId.Name == "RedisUnavailable");
        // No window holds much more than the bucket and its refill (alone, each instance takes the whole quota: 70 more);
        // the slack is the spread between admission (in Redis) and arrival at the server on a busy machine ...
        Assert.InRange(excess, 0, 15);
        // ... and the quota is used: (150 - 50) requests at 49 per second take 2.04 s.
        Assert.InRange(achieved, 0.7, 1.25); // 100 % on an idle machine, 77 % seen while another build ran (timers fire late)
        // Fair: the same number of calls each, so both finish near the end; a starved instance would finish long after.
        Assert.True(Math.Abs((aDone - bDone).TotalSeconds) < 0.5, $"A done after {aDone}, B after {bDone}");
    }

    [Fact]
    public async Task TwoInstancesOneRpmQuota_WithoutRedis_TogetherTheyOversubscribeIt()
    {
        await using var server = await FakeLlmServer.StartAsync();
        await using var a = await StartAsync(server, redis: null);
        await using var b = await StartAsync(server, redis: null);

        var (excess, elapsed, _, _) = await RunAsync(server, a.Client, b.Client);
        output.WriteLine($"Without Redis: {server.Requests.Count} requests in {elapsed.TotalSeconds:0.00} s; most requests beyond the quota in any window {excess:0.0}");

        Assert.True(excess > 30, $"most requests beyond the quota in any window: {excess:0.0}");
    }

    /// <summary>
    /// Both instances call at once; returns the most requests any window of the run held beyond what the quota allows in
    /// it (a full bucket plus the refill over the window), and the time from the first request to the last.
    /// </summary>
    private static async Task<(double Excess, TimeSpan Elapsed, TimeSpan FirstDone, TimeSpan SecondDone)> RunAsync(FakeLlmServer server, IChatCompletionsClient a, IChatCompletionsClient b)
    {
        var started = Stopwatch.StartNew();
        var instances = new List<Task<TimeSpan>>();
        foreach (var client in new[] { a, b })
        {
            var workers = new List<Task>();
            for (var w = 0; w < WorkersPerInstance; w++)
            {
                workers.Add(Task.Run(async () =>
                {
                    for (var i = 0; i < CallsPerInstance / WorkersPerInstance; i++)
                    {
                        await client.CompleteAsync(TestClients.Hello());
                    }
                }));
            }

            instances.Add(Task.WhenAll(workers).ContinueWith(_ => started.Elapsed, TaskScheduler.Default));
        }

        var finished = await Task.WhenAll(instances);
        var requests = server.Requests.OrderBy(r => r.Timestamp).ToArray();
        var excess = double.MinValue;
        for (var i = 0; i < requests.Length; i++)
        {
            for (var j = i; j < requests.Length; j++)
            {
                var allowed = Capacity + (PerSecond * requests[j].ElapsedSince(requests[i]).TotalSeconds);
                excess = Math.Max(excess, j - i + 1 - allowed);
            }
        }

        return (excess, requests[^1].ElapsedSince(requests[0]), finished[0], finished[1]);
    }

    // A generous timeout: these tests are about sharing, not about a loaded machine's Redis falling back to local pacing.
    private static Task<SingleEndpointInstance> StartAsync(FakeLlmServer server, RedisServer? redis) =>
        SingleEndpointInstance.StartAsync(server, redis, RequestsPerMinute, o =>
        {
            o.RefreshInterval = TimeSpan.FromMilliseconds(50);
            o.OperationTimeout = TimeSpan.FromSeconds(1);
        });
}
