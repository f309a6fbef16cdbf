using LlmResilience.Tests.Shared;

namespace LlmResilience.Testing.Tests;

/// <summary>
/// The public surface of LlmResilience.Testing is listed in api/LlmResilience.Testing.txt and this test fails when it
/// changes unnoticed. To accept a change, run the tests with UPDATE_API_LISTING=1 and commit the regenerated listing.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheCheckedInListing() =>
        PublicApiListing.AssertMatches(typeof(FakeLlmServer).Assembly, "LlmResilience.Testing.txt");
}
