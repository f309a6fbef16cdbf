using LlmResilience.Tests.Shared;

namespace LlmResilience.Tests.Issues;

/// <summary>
/// The public surface is small and deliberate: it is listed in api/LlmResilience.txt (and the health check package's in
/// api/LlmResilience.HealthChecks.txt) and these tests fail when it changes unnoticed. To accept a change, run the tests with UPDATE_API_LISTING=1 and commit the regenerated listing.
/// (LlmResilience.Testing's listing is checked in tests/LlmResilience.Testing.Tests.)
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheCheckedInListing() =>
        PublicApiListing.AssertMatches(typeof(LlmClientOptions).Assembly, "LlmResilience.txt");

    [Fact]
    public void HealthChecksPublicApi_MatchesTheCheckedInListing() =>
        PublicApiListing.AssertMatches(typeof(LlmHealthCheckOptions).Assembly, "LlmResilience.HealthChecks.txt");
}
