using System.Globalization;
using LlmResilience.Testing;

namespace LlmResilience.Tests.Redis;

/// <summary>
/// What a FakeLlmServer that enforces a requests-per-minute quota answered a fleet: the 429s it sent, the requests it
/// admitted, and the rate admitted as a share of the quota. A second's share comes at once (the clients' buckets start
/// full, and the provider's holds at least that), so the rate counts what was admitted beyond it, from the first request
/// to the last.
/// </summary>
internal sealed record ProviderQuotaFigures(int Requests, int RateLimited, int Admitted, TimeSpan Elapsed, double ShareOfQuota, string Timeline)
{
    /// <summary>
    /// The window the provider enforces its per-minute quota over in the fleet tests: 1.5 s. The clients' buckets hold a
    /// second's share; over windows of exactly 1 s the provider's bucket is no bigger than the fleet's, so requests Redis
    /// admitted that reach the provider late (a process stalled on a loaded machine) arrive bunched with the next ones and
    /// draw 429s: 1-3 in most runs, but 20-22 in about one run in ten on 2 busy cores, in and out of process alike. Half a
    /// second more leaves room for such a stall; providers do not publish their windows.
    /// </summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1.5);

    public static ProviderQuotaFigures Of(FakeLlmServer server, int requestsPerMinute)
    {
        var requests = server.Requests.OrderBy(r => r.Timestamp).ToArray();
        var rateLimited = requests.Count(IsRateLimited);
        var admitted = requests.Length - rateLimited;
        var elapsed = requests[^1].ElapsedSince(requests[0]);
        var perSecond = requestsPerMinute / 60.0;
        var share = (admitted - perSecond) / elapsed.TotalSeconds / perSecond;
        // Admitted/429 per 100 ms, for a failure's message: a burst past the quota shows as a slot with 429s.
        var timeline = string.Join(" ", requests
            .GroupBy(r => (int)(r.ElapsedSince(requests[0]).TotalMilliseconds / 100))
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key / 10.0:0.0}s:{g.Count(r => !IsRateLimited(r))}/{g.Count(IsRateLimited)}")));
        return new ProviderQuotaFigures(requests.Length, rateLimited, admitted, elapsed, share, timeline);
    }

    private static bool IsRateLimited(RecordedRequest request) => request.BehaviorName == "RateLimited";

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{RateLimited} 429s of {Requests} requests; {Admitted} admitted in {Elapsed.TotalSeconds:0.00} s, {ShareOfQuota:P0} of the quota beyond the opening second's share; " +
            $"admitted/429 per 100 ms: {Timeline}");
}
