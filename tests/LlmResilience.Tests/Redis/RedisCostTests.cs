using System.Diagnostics;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Xunit.Abstractions;

namespace LlmResilience.Tests.Redis;

/// <summary>What coordination through Redis adds to a call: latency and allocations, against local state (figures in the output).</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisCostTests(ITestOutputHelper output)
{
    private const int Calls = 400;

    [RedisFact]
    public async Task PerCallCost_PacedAndUnpaced_WithRedisAgainstLocal()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await FakeLlmServer.StartAsync();

        // A limit so high it never waits: what is measured is taking from the budget, not waiting for it.
        await MeasureAsync(server, redis, requestsPerMinute: 100_000_000); // warms up (JIT tiers) every path measured below
        var localPaced = await MeasureAsync(server, redis: null, requestsPerMinute: 100_000_000);
        var redisPaced = await MeasureAsync(server, redis, requestsPerMinute: 100_000_000);
        var localUnpaced = await MeasureAsync(server, redis: null, requestsPerMinute: null);
        var redisUnpaced = await MeasureAsync(server, redis, requestsPerMinute: null);

        output.WriteLine($"Paced endpoint   local: {localPaced.Micros,7:0} µs {localPaced.Bytes,7:0} B/call | Redis: {redisPaced.Micros,7:0} µs {redisPaced.Bytes,7:0} B/call | " +
            $"added {redisPaced.Micros - localPaced.Micros:0} µs, {redisPaced.Bytes - localPaced.Bytes:0} B");
        output.WriteLine($"Unpaced endpoint local: {localUnpaced.Micros,7:0} µs {localUnpaced.Bytes,7:0} B/call | Redis: {redisUnpaced.Micros,7:0} µs {redisUnpaced.Bytes,7:0} B/call | " +
            $"added {redisUnpaced.Micros - localUnpaced.Micros:0} µs, {redisUnpaced.Bytes - localUnpaced.Bytes:0} B");

        // One round trip to a local Redis: well under a millisecond, and a few kilobytes at most (the script's arguments and reply).
        Assert.InRange(redisPaced.Micros - localPaced.Micros, -2_000, 2_000);
        Assert.InRange(redisPaced.Bytes - localPaced.Bytes, -4_096, 4_096);
    }

    /// <summary>The mean time and bytes allocated (whole process: client and in-process server) per call, after a warm-up.</summary>
    private static async Task<(double Micros, double Bytes)> MeasureAsync(FakeLlmServer server, RedisServer? redis, int? requestsPerMinute)
    {
        // A generous timeout: on a loaded machine 50 ms may pass, and the measurement would then be of local pacing.
        await using var instance = await SingleEndpointInstance.StartAsync(server, redis, requestsPerMinute, static o => o.OperationTimeout = TimeSpan.FromSeconds(1));
        var client = instance.Client;
        for (var i = 0; i < 100; i++)
        {
            await client.CompleteAsync(TestClients.Hello());
        }

        var bytes = GC.GetTotalAllocatedBytes(precise: true);
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < Calls; i++)
        {
            await client.CompleteAsync(TestClients.Hello());
        }

        var elapsed = stopwatch.Elapsed;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - bytes;
        Assert.True(instance.Store?.IsShared ?? true, "Redis fell back to local during the measurement");

        return (elapsed.TotalMicroseconds / Calls, (double)allocated / Calls);
    }
}
