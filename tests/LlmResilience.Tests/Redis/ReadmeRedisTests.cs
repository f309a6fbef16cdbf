using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace LlmResilience.Tests.Redis;

/// <summary>The README's "Running several instances" snippet, compiled (QuickStartTests checks that its lines appear here).</summary>
public sealed class ReadmeRedisTests
{
    [Fact]
    public void ReadmeSnippet_ReplacesTheEndpointStateStoreWithTheRedisOne()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Llm:BaseAddress"] = "http://127.0.0.1:1/v1/" }).Build();
        var services = new ServiceCollection();

        services.AddChatCompletionsClient(configuration.GetSection("Llm"))
            .AddLlmRedisCoordination("redis:6379,password=...", o => o.KeyPrefix = "checkout-llm");

        // or with the IConnectionMultiplexer the app already registered:
        services.AddSingleton<IConnectionMultiplexer>(sp => throw new InvalidOperationException("not resolved in this test"));
        services.AddChatCompletionsClient("fast", configuration.GetSection("Llm"))
            .AddLlmRedisCoordination();

        var stores = services.Where(d => d.ServiceType == typeof(IEndpointStateStore)).ToList();
        Assert.Single(stores);
        Assert.NotNull(stores[0].ImplementationFactory);
        Assert.Single(services, d => d.ServiceType == typeof(RedisEndpointStateStore));
    }
}
