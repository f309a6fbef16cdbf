
namespace LlmResilience.Testing.Tests;

public sealed class FakeBehaviorTests
{
    public static TheoryData<FakeBehavior, string, string> Behaviors => new()
    {
        { FakeBehavior.Ok(), "Ok", "Ok" },
        { FakeBehavior.Ok("hi"), "Ok", "Ok(\"hi\")" },
        { FakeBehavior.OkStream(["a", "b"], TimeSpan.FromMilliseconds(5), includeUsage: true), "OkStream", "OkStream(2 deltas, 5 ms apart, usage)" },
        { FakeBehavior.ResetBeforeHeaders(), "ResetBeforeHeaders", "ResetBeforeHeaders" },
        { FakeBehavior.CloseBeforeHeaders(), "CloseBeforeHeaders", "CloseBeforeHeaders" },
        { FakeBehavior.Hang(), "Hang", "Hang" },
        { FakeBehavior.Delay(TimeSpan.FromMilliseconds(20), FakeBehavior.Ok()), "Delay", "Delay(20 ms, then Ok)" },
        { FakeBehavior.Status(418), "Status", "Status(418)" },
        { FakeBehavior.RateLimited(new Dictionary<string, string> { ["retry-after-ms"] = "10" }), "RateLimited", "RateLimited(retry-after-ms: 10)" },
        { FakeBehavior.InsufficientQuota(), "InsufficientQuota", "InsufficientQuota" },
        { FakeBehavior.ContextLengthExceeded(), "ContextLengthExceeded", "ContextLengthExceeded" },
        { FakeBehavior.Unauthorized(), "Unauthorized", "Unauthorized" },
        { FakeBehavior.ServerError(502), "ServerError", "ServerError(502)" },
        { FakeBehavior.EnvoyUpstreamReset(), "EnvoyUpstreamReset", "EnvoyUpstreamReset" },
        { FakeBehavior.NginxBadGateway(), "NginxBadGateway", "NginxBadGateway" },
        { FakeBehavior.NginxGatewayTimeout(), "NginxGatewayTimeout", "NginxGatewayTimeout" },
        { FakeBehavior.CloudflareError(522), "CloudflareError", "CloudflareError(522)" },
        { FakeBehavior.MalformedJson(), "MalformedJson", "MalformedJson" },
        { FakeBehavior.MalformedSse(), "MalformedSse", "MalformedSse" },
        { FakeBehavior.StreamStallAfter(2), "StreamStallAfter", "StreamStallAfter(2)" },
        { FakeBehavior.StreamKeepAliveOnly(TimeSpan.FromMilliseconds(15)), "StreamKeepAliveOnly", "StreamKeepAliveOnly(15 ms)" },
        { FakeBehavior.StreamResetAfter(1), "StreamResetAfter", "StreamResetAfter(1)" },
        { FakeBehavior.StreamEndWithoutDone(0), "StreamEndWithoutDone", "StreamEndWithoutDone(0)" },
        { FakeBehavior.IdleKeepAliveClose(TimeSpan.FromMilliseconds(30)), "IdleKeepAliveClose", "IdleKeepAliveClose(30 ms)" },
        { FakeBehavior.Custom("Mine", (_, _) => Task.CompletedTask), "Mine", "Mine" },
    };

    [Theory]
    [MemberData(nameof(Behaviors))]
    public void Factory_AnyBehavior_HasItsNameAndDescription(FakeBehavior behavior, string name, string description)
    {
        Assert.Equal(name, behavior.Name);
        Assert.Equal(description, behavior.ToString());
    }

    [Fact]
    public void Factories_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.Status(99));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.Status(600));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.ServerError(499));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeBehavior.Delay(TimeSpan.FromMilliseconds(-1), FakeBehavior.Ok()));
        Assert.Throws<ArgumentNullException>(() => FakeBehavior.Delay(TimeSpan.Zero, null!));
        Assert.Throws<ArgumentNullException>(() => FakeBehavior.OkStream(null!));
        Assert.Throws<ArgumentNullException>(() => FakeBehavior.Custom("x", null!));
    }

    [Fact]
    public void RateLimited_HeadersChangedAfterwards_KeepsTheOriginalCopy()
    {
        var headers = new Dictionary<string, string> { ["retry-after-ms"] = "10" };
        var behavior = FakeBehavior.RateLimited(headers);

        headers["retry-after-ms"] = "99";

        Assert.Equal("RateLimited(retry-after-ms: 10)", behavior.ToString());
    }
}
