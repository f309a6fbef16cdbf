using BenchmarkDotNet.Running;
using LlmResilience.Benchmarks;

// dotnet run -c Release --project tests/LlmResilience.Benchmarks -- [--check-server | --throughput [--callers N] [--rounds N] [--seconds S] [--warmup-seconds S] [--clients A,B | --only A] [--round-times] | --attribution [--warmup-seconds N] | --redis [--rounds N] [--warmup-seconds N] [--callers N] | --learned-headers [--iterations N] | --contention [--iterations N] | --interleaved [--rounds N] [--stream-rounds N] [--warmup-seconds N] [--clients Bare,Ours,HandlerOnly,OpenAiSdk] [--otel | --otel-http] | --quick] [BenchmarkDotNet options]

if (args.Contains("--check-server"))
{
    return await CheckServer.RunAsync();
}

if (args.Contains("--throughput"))
{
    // Synchronous on the main thread (no await before it): the round timer sleeps here, not on a pool thread.
    return Throughput.Run(IntOption(args, "--callers", 32), IntOption(args, "--rounds", 5), DoubleOption(args, "--seconds", 3),
        DoubleOption(args, "--warmup-seconds", 10), StringOption(args, "--only") ?? StringOption(args, "--clients"), args.Contains("--round-times"));
}

if (args.Contains("--redis"))
{
    return await RedisCost.RunAsync(IntOption(args, "--rounds", 3000), IntOption(args, "--warmup-seconds", 20), IntOption(args, "--callers", 1));
}

if (args.Contains("--learned-headers"))
{
    return LearnedHeaders.Run(IntOption(args, "--iterations", 200_000));
}

if (args.Contains("--contention"))
{
    return Contention.Run(IntOption(args, "--iterations", 2_000_000));
}

if (args.Contains("--attribution"))
{
    return await Attribution.RunAsync(IntOption(args, "--warmup-seconds", 8));
}

if (args.Contains("--interleaved"))
{
    using var otel = OtelListening.StartIf(args);
    return await Interleaved.RunAsync(IntOption(args, "--rounds", 3000), IntOption(args, "--stream-rounds", 1000), IntOption(args, "--warmup-seconds", 20), StringOption(args, "--clients"));
}

var quick = args.Contains("--quick");
var rest = args.Where(a => a != "--quick").ToList();
if (quick && !rest.Contains("--filter"))
{
    rest.AddRange(["--filter", "*"]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. rest], BenchConfig.Create(quick));
return 0;

static string? StringOption(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static int IntOption(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

static double DoubleOption(string[] args, string name, double fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
