using System.Net;

namespace LlmResilience.Tests.Resilience.Retry;

public sealed class ServerRetryHintsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("20ms", 20)]
    [InlineData("1s", 1000)]
    [InlineData("1.5s", 1500)]
    [InlineData("6m0s", 360_000)]
    [InlineData("1h2m3s", 3_723_000)]
    [InlineData("0s", 0)]
    [InlineData("0", 0)]
    [InlineData("1.382s", 1382)]
    [InlineData("500us", 0.5)]
    [InlineData(" 2s ", 2000)]
    public void TryParseGoDuration_OpenAiValues_Parses(string value, double expectedMs)
    {
        Assert.True(ServerRetryHints.TryParseGoDuration(value, out var duration));
        Assert.Equal(expectedMs, duration.TotalMilliseconds, 3);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("12")]
    [InlineData("-1s")]
    [InlineData("1x")]
    [InlineData("abc")]
    [InlineData("1.2.3s")]
    public void TryParseGoDuration_Garbage_Fails(string value)
    {
        Assert.False(ServerRetryHints.TryParseGoDuration(value, out _));
    }

    [Theory]
    [InlineData("120", 120_000)]
    [InlineData("0", 0)]
    [InlineData("1.5", 1500)]
    public void TryParseRetryAfter_DeltaSeconds_Parses(string value, double expectedMs)
    {
        Assert.True(ServerRetryHints.TryParseRetryAfter(value, Now, out var delay));
        Assert.Equal(expectedMs, delay.TotalMilliseconds, 3);
    }

    [Fact]
    public void TryParseRetryAfter_HttpDate_MeasuredFromNow()
    {
        var value = Now.AddSeconds(7).ToString("R");
        Assert.True(ServerRetryHints.TryParseRetryAfter(value, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(7), delay);
    }

    [Fact]
    public void TryParseRetryAfter_DateInThePast_MeansNow()
    {
        Assert.True(ServerRetryHints.TryParseRetryAfter(Now.AddMinutes(-1).ToString("R"), Now, out var delay));
        Assert.Equal(TimeSpan.Zero, delay);
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("soon")]
    [InlineData("")]
    [InlineData("Thu, 99 Foo 2026")]
    public void TryParseRetryAfter_Garbage_Fails(string value)
    {
        Assert.False(ServerRetryHints.TryParseRetryAfter(value, Now, out _));
    }

    [Theory]
    [InlineData("1500", 1500)]
    [InlineData("0", 0)]
    [InlineData("12.5", 12.5)]
    public void TryParseMilliseconds_Values_Parse(string value, double expectedMs)
    {
        Assert.True(ServerRetryHints.TryParseMilliseconds(value, out var delay));
        Assert.Equal(expectedMs, delay.TotalMilliseconds, 3);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("1e999")]
    [InlineData("x")]
    public void TryParseMilliseconds_Garbage_Fails(string value)
    {
        Assert.False(ServerRetryHints.TryParseMilliseconds(value, out _));
    }

    [Theory]
    // header pairs, status, expected ms (-1 = no hint)
    [InlineData(new[] { "retry-after-ms", "250", "Retry-After", "9" }, 429, 250)]
    [InlineData(new[] { "x-ms-retry-after-ms", "300", "Retry-After", "9" }, 429, 300)]
    [InlineData(new[] { "Retry-After", "3" }, 503, 3000)]
    [InlineData(new[] { "retry-after-ms", "garbage", "Retry-After", "2" }, 429, 2000)]
    [InlineData(new[] { "retry-after-ms", "-10" }, 429, -1)]
    [InlineData(new[] { "x-ratelimit-reset-requests", "1.5s", "x-ratelimit-reset-tokens", "6m0s", "x-ratelimit-remaining-requests", "0", "x-ratelimit-remaining-tokens", "1200" }, 429, 1500)]
    [InlineData(new[] { "x-ratelimit-reset-requests", "1.5s", "x-ratelimit-reset-tokens", "20ms", "x-ratelimit-remaining-requests", "10", "x-ratelimit-remaining-tokens", "0" }, 429, 20)]
    [InlineData(new[] { "x-ratelimit-reset-requests", "1.5s", "x-ratelimit-reset-tokens", "20ms" }, 429, 1500)]
    [InlineData(new[] { "x-ratelimit-reset-tokens", "1h2m3s" }, 429, 3_723_000)]
    [InlineData(new[] { "x-ratelimit-reset-requests", "1.5s" }, 503, -1)]
    [InlineData(new string[0], 429, -1)]
    public void GetRetryAfter_HeaderCombinations_FollowsPrecedence(string[] headers, int status, double expectedMs)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        for (var i = 0; i < headers.Length; i += 2)
        {
            response.Headers.TryAddWithoutValidation(headers[i], headers[i + 1]);
        }

        var hint = ServerRetryHints.GetRetryAfter(response.Headers, status, Now);

        if (expectedMs < 0)
        {
            Assert.Null(hint);
        }
        else
        {
            Assert.Equal(expectedMs, hint!.Value.TotalMilliseconds, 3);
        }
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("false", false)]
    [InlineData("maybe", null)]
    public void GetShouldRetry_Values_Parse(string value, bool? expected)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation("x-should-retry", value);
        Assert.Equal(expected, ServerRetryHints.GetShouldRetry(response.Headers));
    }
}
