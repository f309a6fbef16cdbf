using System.Collections.Concurrent;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace LlmResilience.Tests.Redis;

/// <summary>
/// After an answer's usage, the tokens the estimate missed (or overshot) are charged to (or given back to) the budget the
/// call was taken from: with Redis, the fleet's tokens bucket, so that every instance sees them.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class SharedUsageCorrectionTests
{
    [RedisFact]
    public async Task Correct_ChargesAndGivesBackOnTheFleetsTokensBucket_InRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await FakeLlmServer.StartAsync();
        await using var instance = await SingleEndpointInstance.StartAsync(server, redis, requestsPerMinute: null, static o => o.OperationTimeout = TimeSpan.FromSeconds(1));
        var store = instance.Store!;
        // 1000 tokens a bucket, refilled so slowly (0.01 a second) that the test's time does not show.
        var bucket = new SmoothTokenBucket(capacity: 1000, perSecond: 0.01, TimeProvider.System);
        const string Endpoint = "fleet#0123abcd";

        Assert.Equal(TimeSpan.Zero, await store.TryTakeAsync(Endpoint, requests: null, bucket, tokens: 600, CancellationToken.None));
        Assert.InRange(await LevelAsync(redis, Endpoint), 399.9, 400.1);

        store.Correct(Endpoint, bucket, 300); // the answer used 300 more than the estimate
        Assert.True(await Eventually.TrueAsync(async () => await LevelAsync(redis, Endpoint) < 101, TimeSpan.FromSeconds(5)), "the charge never reached Redis");
        Assert.True(await store.TryTakeAsync(Endpoint, requests: null, bucket, tokens: 200, CancellationToken.None) > TimeSpan.Zero, "200 tokens were taken from a bucket holding 100");

        store.Correct(Endpoint, bucket, -500); // and here 500 fewer
        Assert.True(await Eventually.TrueAsync(async () => await LevelAsync(redis, Endpoint) > 599, TimeSpan.FromSeconds(5)), "the refund never reached Redis");
        Assert.Equal(TimeSpan.Zero, await store.TryTakeAsync(Endpoint, requests: null, bucket, tokens: 200, CancellationToken.None));
    }

    [Fact]
    public async Task AnswerUsage_CallTakenFromTheFleetsBudget_IsCorrectedThereNotLocally()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var fleet = new RecordingFleet();
        var services = new ServiceCollection();
        services.AddChatCompletionsClient(o =>
        {
            o.BaseAddress = server.BaseAddress;
            o.Model = "test-model";
            o.Resilience = TestClients.FastResilience();
            o.Endpoints.Add(new LlmEndpoint { Name = "only", BaseAddress = server.BaseAddress, ApiKey = TestClients.ApiKey, TokensPerMinute = 600_000 });
        });
        services.Replace(ServiceDescriptor.Singleton<IEndpointStateStore>(fleet));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatCompletionsClient>();

        var completion = await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("Say hello")]) { MaxTokens = 500 });

        var usage = completion.Usage!.TotalTokens;
        var (key, taken) = Assert.Single(fleet.Taken);
        Assert.StartsWith("only#", key, StringComparison.Ordinal);
        Assert.True(await Eventually.TrueAsync(() => !fleet.Corrections.IsEmpty, TimeSpan.FromSeconds(5)), "no correction reached the fleet's budget");
        var (correctedKey, delta) = Assert.Single(fleet.Corrections);
        Assert.Equal(key, correctedKey);
        Assert.Equal(usage - taken, delta); // a refund: the estimate counted the 500 output tokens asked for
        Assert.True(delta < 0);
        // The local bucket was not charged for this call, so it is not corrected either: still full.
        Assert.Equal(fleet.State.Pacer!.Tokens!.Capacity, fleet.State.Pacer.Tokens.Available, 1);
    }

    private static async Task<double> LevelAsync(RedisServer redis, string endpoint)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var level = await connection.GetDatabase().HashGetAsync($"llmresilience:budget:{endpoint}:tokens", "level");
        return double.Parse(level.ToString(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A fleet's store that admits every call from its budget and records what was taken and corrected.</summary>
    private sealed class RecordingFleet : IEndpointStateStore, IEndpointStateSharing, ISharedBudget
    {
        private EndpointState? _state;

        public ConcurrentQueue<(string Key, int Tokens)> Taken { get; } = new();

        public ConcurrentQueue<(string Key, int Tokens)> Corrections { get; } = new();

        public EndpointState State => _state!;

        public EndpointState Get(string endpointKey) => _state ??= new EndpointState(endpointKey, this, this);

        public void Publish(string endpointKey, EndpointOutage reason, DateTimeOffset until)
        {
        }

        public void Withdraw(string endpointKey, EndpointOutage reason)
        {
        }

        public ValueTask<TimeSpan?> TryTakeAsync(string endpointKey, SmoothTokenBucket? requests, SmoothTokenBucket? tokensBucket, int tokens, CancellationToken cancellationToken)
        {
            Taken.Enqueue((endpointKey, tokens));
            return ValueTask.FromResult<TimeSpan?>(TimeSpan.Zero);
        }

        public void Correct(string endpointKey, SmoothTokenBucket tokensBucket, int tokens) => Corrections.Enqueue((endpointKey, tokens));
    }
}
