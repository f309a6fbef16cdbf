using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace LlmResilience.Benchmarks;

internal static class BenchConfig
{
    /// <summary>
    /// MemoryDiagnoser (allocations per operation, process-wide: see README), ratio columns against each class's
    /// baseline, median and throughput. <c>--quick</c>: 1 launch, 3 warm-up and 5 measured iterations of 250 ms each
    /// after 6 s of the client's calls (about 3 minutes for everything on 2 cores); otherwise 6 warm-up and 15 measured
    /// iterations of 500 ms after 15 s of calls (about 8 minutes). See <see cref="LoopbackBenchmark"/> for the long warm-up.
    /// </summary>
    public static IConfig Create(bool quick)
    {
        var job = quick
            ? Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5).WithIterationTime(TimeInterval.FromMilliseconds(250))
                .WithEnvironmentVariable("LLMBENCH_WARMUP_SECONDS", "6").WithId("Quick")
            : Job.Default.WithLaunchCount(1).WithWarmupCount(6).WithIterationCount(15)
                .WithEnvironmentVariable("LLMBENCH_WARMUP_SECONDS", "15").WithId("Full");
        return DefaultConfig.Instance
            .AddJob(job.AsDefault())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(StatisticColumn.Median, StatisticColumn.OperationsPerSecond)
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Value));
    }
}
