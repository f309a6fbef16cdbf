using System.Net.Http;

namespace LlmResilience.Tests.Chat;

public sealed class LlmFailureKindTests
{
    [Theory]
    [InlineData(LlmFailureKind.ConnectFailure, true, HttpRequestError.ConnectionError)]
    [InlineData(LlmFailureKind.ResetBeforeHeaders, true, HttpRequestError.ResponseEnded)]
    [InlineData(LlmFailureKind.Timeout, true, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.StreamInterrupted, true, HttpRequestError.ResponseEnded)]
    [InlineData(LlmFailureKind.RateLimited, true, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.ServerError, true, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.ProxyUpstreamFailure, true, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.QuotaExceeded, false, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.Unauthorized, false, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.BadRequest, false, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.ContextLengthExceeded, false, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.InvalidResponse, false, HttpRequestError.InvalidResponse)]
    [InlineData(LlmFailureKind.CircuitOpen, true, HttpRequestError.Unknown)]
    [InlineData(LlmFailureKind.Unknown, false, HttpRequestError.Unknown)]
    public void LlmException_Kind_DecidesTransienceAndTheHttpRequestError(LlmFailureKind kind, bool transient, HttpRequestError error)
    {
        var exception = new LlmException(kind, "m");

        Assert.Equal(transient, exception.IsTransient);
        Assert.Equal(error, exception.HttpRequestError);
        Assert.Equal(kind, exception.Kind);
    }

    [Fact]
    public void Unknown_IsTheDefault_AndEveryKindIsCovered()
    {
        Assert.Equal(LlmFailureKind.Unknown, default(LlmFailureKind));
        // The theory above lists every kind; a new kind must be added there (and get a transience decision).
        Assert.Equal(14, Enum.GetValues<LlmFailureKind>().Length);
    }
}
