using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace LlmResilience.Benchmarks;

/// <summary>
/// Starts the loopback server and the clients in the benchmark process, then warms the client about to be measured with
/// the class's kind of call for <c>LLMBENCH_WARMUP_SECONDS</c> (set by the job: 6 s quick, 15 s full) before
/// BenchmarkDotNet's own pilot and warm-up: on this 2-core VM a client takes 10-20 s of back-to-back calls to settle
/// (tiered JIT with dynamic PGO, thread pool, GC budgets), far longer than a short job's warm-up. Prints the server's
/// counters at the end, so the log shows that its threads allocated nothing while the client was measured.
/// </summary>
public abstract class LoopbackBenchmark
{
    private LoopbackServer? _server;

    private protected BenchClients Clients { get; private set; } = null!;

    [GlobalCleanup]
    public void StopServer()
    {
        Console.WriteLine("// " + _server?.Describe());
        Clients.Dispose();
        _server?.Dispose();
    }

    private protected void Setup(ClientKind kind)
    {
        _server = LoopbackServer.Start();
        Clients = new BenchClients(_server.BaseAddress);
        var seconds = double.Parse(Environment.GetEnvironmentVariable("LLMBENCH_WARMUP_SECONDS") ?? "6", System.Globalization.CultureInfo.InvariantCulture);
        var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var calls = 0;
        while (Stopwatch.GetTimestamp() < end || calls == 0)
        {
            WarmUp(kind).GetAwaiter().GetResult();
            calls++;
        }

        Thread.Sleep(500); // lets the background JIT finish its queue
        Console.WriteLine($"// warmed {kind} with {calls} invocations in {seconds} s");
    }

    /// <summary>One invocation of the kind the class measures.</summary>
    private protected abstract Task WarmUp(ClientKind kind);

}

/// <summary>One non-streamed chat completion (~600-byte JSON answer with usage) per operation.</summary>
public class NonStreaming : LoopbackBenchmark
{
    [GlobalSetup(Target = nameof(Bare))]
    public void SetupBare() => Setup(ClientKind.Bare);

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs() => Setup(ClientKind.Ours);

    [GlobalSetup(Target = nameof(HandlerOnly))]
    public void SetupHandlerOnly() => Setup(ClientKind.HandlerOnly);

    [GlobalSetup(Target = nameof(OpenAiSdk))]
    public void SetupOpenAiSdk() => Setup(ClientKind.OpenAiSdk);

    private protected override Task WarmUp(ClientKind kind) => Clients.CompleteAsync(kind);

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
    [GlobalSetup(Target = nameof(Bare))]
    public void SetupBare() => Setup(ClientKind.Bare);

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs() => Setup(ClientKind.Ours);

    [GlobalSetup(Target = nameof(HandlerOnly))]
    public void SetupHandlerOnly() => Setup(ClientKind.HandlerOnly);

    [GlobalSetup(Target = nameof(OpenAiSdk))]
    public void SetupOpenAiSdk() => Setup(ClientKind.OpenAiSdk);

    private protected override Task WarmUp(ClientKind kind) => Clients.StreamAsync(kind);

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

    [GlobalSetup(Target = nameof(Bare))]
    public void SetupBare() => Setup(ClientKind.Bare);

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs() => Setup(ClientKind.Ours);

    [GlobalSetup(Target = nameof(OpenAiSdk))]
    public void SetupOpenAiSdk() => Setup(ClientKind.OpenAiSdk);

    private protected override Task WarmUp(ClientKind kind) => RunAsync(kind);

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
