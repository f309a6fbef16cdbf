using BenchmarkDotNet.Attributes;

namespace LlmResilience.Benchmarks;

/// <summary>
/// Starts the loopback server and the four clients in the benchmark process, and warms every client (JIT, a pooled
/// connection) before BenchmarkDotNet's own warm-up. Prints the server's counters at the end, so the log shows that
/// its threads allocated (next to) nothing while the clients were measured.
/// </summary>
public abstract class LoopbackBenchmark
{
    private LoopbackServer? _server;

    private protected BenchClients Clients { get; private set; } = null!;

    [GlobalSetup]
    public void StartServer()
    {
        _server = LoopbackServer.Start();
        Clients = new BenchClients(_server.BaseAddress);
        foreach (var kind in Enum.GetValues<ClientKind>())
        {
            Clients.CompleteAsync(kind).GetAwaiter().GetResult();
            Clients.StreamAsync(kind).GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void StopServer()
    {
        Console.WriteLine("// " + _server?.Describe());
        Clients.Dispose();
        _server?.Dispose();
    }
}

/// <summary>One non-streamed chat completion (~600-byte JSON answer with usage) per operation.</summary>
public class NonStreaming : LoopbackBenchmark
{
    [Benchmark(Baseline = true, Description = "Bare HttpClient + STJ source-gen")]
    public Task<int> Bare() => Clients.CompleteAsync(ClientKind.Bare);

    [Benchmark(Description = "LlmResilience ChatCompletionsClient")]
    public Task<int> Ours() => Clients.CompleteAsync(ClientKind.Ours);

    [Benchmark(Description = "Bare code on AddLlmResilienceHandler()")]
    public Task<int> HandlerOnly() => Clients.CompleteAsync(ClientKind.HandlerOnly);

    [Benchmark(Description = "OpenAI SDK 2.15.0 ChatClient")]
    public Task<int> OpenAiSdk() => Clients.CompleteAsync(ClientKind.OpenAiSdk);
}

/// <summary>One streamed chat completion per operation: 65 SSE chunks (64 content deltas and a finishing one) and [DONE], all consumed.</summary>
public class Streaming : LoopbackBenchmark
{
    [Benchmark(Baseline = true, Description = "Bare HttpClient + SseParser + STJ source-gen")]
    public Task<int> Bare() => Clients.StreamAsync(ClientKind.Bare);

    [Benchmark(Description = "LlmResilience ChatCompletionsClient")]
    public Task<int> Ours() => Clients.StreamAsync(ClientKind.Ours);

    [Benchmark(Description = "Bare reader on AddLlmResilienceHandler()")]
    public Task<int> HandlerOnly() => Clients.StreamAsync(ClientKind.HandlerOnly);

    [Benchmark(Description = "OpenAI SDK 2.15.0 ChatClient")]
    public Task<int> OpenAiSdk() => Clients.StreamAsync(ClientKind.OpenAiSdk);
}

/// <summary>
/// 32 callers at once, each making <see cref="CallsPerCaller"/> non-streamed calls in a row through one shared client.
/// The figures are per call (OperationsPerInvoke), so Op/s is the throughput of the whole group.
/// </summary>
public class Concurrency : LoopbackBenchmark
{
    public const int Callers = 32;
    public const int CallsPerCaller = 8;
    private const int Calls = Callers * CallsPerCaller;

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls, Description = "Bare HttpClient + STJ source-gen")]
    public Task Bare() => RunAsync(ClientKind.Bare);

    [Benchmark(OperationsPerInvoke = Calls, Description = "LlmResilience ChatCompletionsClient")]
    public Task Ours() => RunAsync(ClientKind.Ours);

    [Benchmark(OperationsPerInvoke = Calls, Description = "OpenAI SDK 2.15.0 ChatClient")]
    public Task OpenAiSdk() => RunAsync(ClientKind.OpenAiSdk);

    private Task RunAsync(ClientKind kind)
    {
        var callers = new Task[Callers];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = CallerAsync(kind);
        }

        return Task.WhenAll(callers);
    }

    private async Task CallerAsync(ClientKind kind)
    {
        await Task.Yield(); // every caller runs on the thread pool, all at once
        for (var i = 0; i < CallsPerCaller; i++)
        {
            await Clients.CompleteAsync(kind);
        }
    }
}
