using System.Diagnostics;
using System.Net;

namespace LlmResilience.Benchmarks;

/// <summary>
/// <c>--learned-headers</c>: the cost of reading OpenAI's six <c>x-ratelimit-*</c> headers from an answer and learning
/// from them (what every answer from a real provider pays), per answer: time and allocations on one thread.
/// </summary>
internal static class LearnedHeaders
{
    public static int Run(int iterations)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation("x-ratelimit-limit-requests", "10000");
        response.Headers.TryAddWithoutValidation("x-ratelimit-limit-tokens", "30000000");
        response.Headers.TryAddWithoutValidation("x-ratelimit-remaining-requests", "9999");
        response.Headers.TryAddWithoutValidation("x-ratelimit-remaining-tokens", "29999000");
        response.Headers.TryAddWithoutValidation("x-ratelimit-reset-requests", "6ms");
        response.Headers.TryAddWithoutValidation("x-ratelimit-reset-tokens", "2ms");
        var state = new EndpointState();
        var time = TimeProvider.System;

        for (var i = 0; i < 10_000; i++)
        {
            Once(response, state, time);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            Once(response, state, time);
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Console.WriteLine($"Learning from x-ratelimit-* headers: {elapsed.TotalMilliseconds * 1000 / iterations:0.00} µs and {bytes / (double)iterations:0} B per answer ({iterations} answers)");
        return 0;
    }

    private static void Once(HttpResponseMessage response, EndpointState state, TimeProvider time)
    {
        if (RateLimitHeaders.TryRead(response.Headers) is { } limits)
        {
            state.Learn(limits, time.GetUtcNow(), time);
        }
    }
}
