using LlmResilience.Tests.Shared;

namespace LlmResilience.Http.Resilience.Tests;

/// <summary>The package's public surface, listed in api/LlmResilience.Http.Resilience.txt (regenerate with UPDATE_API_LISTING=1).</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheCheckedInListing() =>
        PublicApiListing.AssertMatches(typeof(LlmHttpResilienceOptions).Assembly, "LlmResilience.Http.Resilience.txt");
}
