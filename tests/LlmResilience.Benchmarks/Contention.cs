using System.Diagnostics;

namespace LlmResilience.Benchmarks;

/// <summary>
/// <c>--contention</c>: two threads at once on the two per-call things that every core touches, measured as wall time
/// per operation (both threads run the whole time, so CPU per operation is about twice that):
/// a call's token source with a timer (<see cref="TimeoutTokenSource"/> as an attempt makes it) against one without
/// (<see cref="TimeoutTokenSource.Unarmed"/>, the deadline's until it is armed); and <see cref="RetryBudget.RecordCall"/>,
/// one counter that every call on every core increments.
/// </summary>
internal static class Contention
{
    public static int Run(int iterations)
    {
        Console.WriteLine($"Contention run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, 2 threads x {iterations:N0}, 3 rounds");
        var budget = new RetryBudget(new LlmRetryBudgetOptions(), TimeProvider.System);
        (string Name, Action Operation)[] cases =
        [
            ("token source with a 20 min timer", static () => new TimeoutTokenSource(TimeSpan.FromMinutes(20), TimeProvider.System, default).Dispose()),
            ("token source without a timer (unarmed)", static () => TimeoutTokenSource.Unarmed(TimeProvider.System, default).Dispose()),
            ("RetryBudget.RecordCall", budget.RecordCall),
        ];

        for (var round = 1; round <= 3; round++)
        {
            foreach (var (name, operation) in cases)
            {
                var stopwatch = Stopwatch.StartNew();
                var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
                {
                    for (var i = 0; i < iterations; i++)
                    {
                        operation();
                    }
                })).ToArray();
                foreach (var thread in threads)
                {
                    thread.Start();
                }

                foreach (var thread in threads)
                {
                    thread.Join();
                }

                Console.WriteLine($"round {round}: {name}: {stopwatch.Elapsed.TotalNanoseconds / (2.0 * iterations):0.0} ns per operation");
            }
        }

        return 0;
    }
}
