using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using LlmResilience.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmResilience.Tests.Redis;

/// <summary>One instance of an app (its own container, as its own process would have) with one endpoint on FakeLlmServer, coordinated through Redis or not.</summary>
internal sealed record SingleEndpointInstance(ServiceProvider Provider, IChatCompletionsClient Client, RedisEndpointStateStore? Store, CapturingLoggerProvider Logs)
    : IAsyncDisposable
{
    public static async Task<SingleEndpointInstance> StartAsync(FakeLlmServer server, RedisServer? redis, int? requestsPerMinute,
        Action<LlmRedisCoordinationOptions>? configure = null)
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        var builder = services.AddChatCompletionsClient(o =>
        {
            o.BaseAddress = server.BaseAddress;
            o.Model = "test-model";
            o.Resilience = TestClients.FastResilience();
            o.Endpoints.Add(new LlmEndpoint { Name = "only", BaseAddress = server.BaseAddress, ApiKey = TestClients.ApiKey, RequestsPerMinute = requestsPerMinute });
        });
        if (redis is not null)
        {
            builder.AddLlmRedisCoordination(redis.Configuration, configure ?? (static _ => { }));
        }

        var provider = services.BuildServiceProvider();
        var instance = new SingleEndpointInstance(provider, provider.GetRequiredService<IChatCompletionsClient>(), provider.GetService<RedisEndpointStateStore>(), logs);
        if (instance.Store is { } store)
        {
            Assert.True(await Eventually.TrueAsync(() => store.IsShared, TimeSpan.FromSeconds(10)), "the instance never connected to Redis");
            // A redis-server just started may refuse the first connection (logged, then restored): the tests are about
            // what happens once the instance shares, so the start-up's log lines are dropped.
            logs.Entries.Clear();
        }

        return instance;
    }

    public ValueTask DisposeAsync() => Provider.DisposeAsync();
}
