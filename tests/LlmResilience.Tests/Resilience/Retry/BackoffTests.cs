namespace LlmResilience.Tests.Resilience.Retry;

public sealed class BackoffTests
{
    [Theory]
    [InlineData(0, 500)]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    [InlineData(5, 16000)]
    [InlineData(6, 20000)]
    [InlineData(200, 20000)]
    public void Compute_NoJitter_DoublesUpToMaxDelay(int retryIndex, double expectedMs)
    {
        var options = new LlmResilienceOptions { UseJitter = false };
        Assert.Equal(expectedMs, Backoff.Compute(retryIndex, options, () => 0.3).TotalMilliseconds, 3);
    }

    [Theory]
    [InlineData(0.0, 1000)]
    [InlineData(0.5, 1500)]
    [InlineData(0.999, 1999)]
    public void Compute_Jitter_StaysBetweenHalfAndFullStep(double random, double expectedMs)
    {
        var options = new LlmResilienceOptions();
        Assert.Equal(expectedMs, Backoff.Compute(2, options, () => random).TotalMilliseconds, 0);
    }
}
