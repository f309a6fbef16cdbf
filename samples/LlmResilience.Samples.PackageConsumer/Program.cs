// Uses LlmResilience and LlmResilience.Testing as a team would, from their packages: a completion through a retried
// reset and a streamed answer, against FakeLlmServer. Then it checks where the assemblies came from: the NuGet package
// folder, never a project's bin folder. Exits non-zero on any failure.
using System.Reflection;
using System.Text.Json;
using LlmResilience;
using LlmResilience.Chat;
using LlmResilience.Testing;
using Microsoft.Extensions.DependencyInjection;

await using var server = await FakeLlmServer.StartAsync();
server.Enqueue(FakeBehavior.ResetBeforeHeaders(), FakeBehavior.Ok("Hello from the package."));

var services = new ServiceCollection();
services.AddChatCompletionsClient(options =>
{
    options.BaseAddress = server.BaseAddress;
    options.Model = "fake-model";
    options.Resilience.BaseDelay = TimeSpan.FromMilliseconds(50);
});
await using var provider = services.BuildServiceProvider();
var client = provider.GetRequiredService<IChatCompletionsClient>();

var completion = await client.CompleteAsync(new ChatCompletionRequest([ChatMessage.User("hi")]));
var streamed = string.Empty;
await foreach (var chunk in client.StreamAsync(new ChatCompletionRequest([ChatMessage.User("stream")])))
{
    streamed += chunk.ContentDelta;
}

var failures = new List<string>();
if (completion.Content != "Hello from the package." || server.Requests.Count != 3)
{
    failures.Add($"unexpected completion '{completion.Content}' after {server.Requests.Count} requests (expected a retried reset)");
}

if (streamed != "Hello from FakeLlmServer.")
{
    failures.Add($"unexpected streamed text '{streamed}'");
}

// Built from packages, the app's deps.json lists each library as "package" (a project reference says "project"), and
// the assemblies carry the version this app asked for, suffix included, so a stale package of the same version is caught.
var expected = typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LlmResilienceVersion").Value;
using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "LlmResilience.Samples.PackageConsumer.deps.json")));
var libraries = deps.RootElement.GetProperty("libraries");
foreach (var assembly in new[] { typeof(ChatCompletionsClient).Assembly, typeof(FakeLlmServer).Assembly })
{
    var name = assembly.GetName().Name!;
    var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
    var type = libraries.TryGetProperty($"{name}/{expected}", out var library) ? library.GetProperty("type").GetString() : "missing";
    Console.WriteLine($"{name} {version}: {type} {name}/{expected}, loaded from {assembly.Location}");
    if (type != "package")
    {
        failures.Add($"{name}/{expected} is '{type}' in deps.json, not 'package': the app did not use the packed package");
    }

    if (version.Split('+')[0] != expected)
    {
        failures.Add($"{name} is version {version}, not the packed {expected}");
    }
}

Console.WriteLine($"Completion: {completion.Content} ({server.Requests.Count - 1} attempts, the first reset); streamed: {streamed}");
foreach (var failure in failures)
{
    Console.Error.WriteLine("FAILED: " + failure);
}

Console.WriteLine(failures.Count == 0 ? "Package consumer check passed." : "Package consumer check failed.");
return failures.Count == 0 ? 0 : 1;
