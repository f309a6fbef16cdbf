using System.Net;
using System.Net.Http.Json;
using LlmResilience.Samples.AspNetCore.Problems;
using LlmResilience.Testing;

namespace LlmResilience.Samples.AspNetCore.Tests.Problems;

public sealed class LlmProblemsTests
{
    [Theory]
    [InlineData(LlmFailureKind.RateLimited, null, 429)]
    [InlineData(LlmFailureKind.QuotaExceeded, null, 503)]
    [InlineData(LlmFailureKind.Timeout, null, 504)]
    [InlineData(LlmFailureKind.ConnectFailure, null, 503)]
    [InlineData(LlmFailureKind.ResetBeforeHeaders, null, 502)]
    [InlineData(LlmFailureKind.ProxyUpstreamFailure, HttpStatusCode.BadGateway, 502)]
    [InlineData(LlmFailureKind.ProxyUpstreamFailure, HttpStatusCode.ServiceUnavailable, 503)]
    [InlineData(LlmFailureKind.ServerError, HttpStatusCode.InternalServerError, 502)]
    [InlineData(LlmFailureKind.StreamInterrupted, null, 502)]
    [InlineData(LlmFailureKind.InvalidResponse, null, 502)]
    [InlineData(LlmFailureKind.Unauthorized, HttpStatusCode.Unauthorized, 502)]
    [InlineData(LlmFailureKind.BadRequest, HttpStatusCode.BadRequest, 502)]
    [InlineData(LlmFailureKind.ContextLengthExceeded, HttpStatusCode.BadRequest, 400)]
    [InlineData(LlmFailureKind.Unknown, null, 502)]
    public void Create_EachKind_HasItsStatusAFriendlyDetailAndTheKind(LlmFailureKind kind, HttpStatusCode? upstream, int expected)
    {
        var problem = LlmProblems.Create(new LlmException(kind, "upstream said: req_123 at llm.internal.example", statusCode: upstream));

        Assert.Equal(expected, problem.Status);
        Assert.NotEqual(500, problem.Status);
        Assert.Equal(kind.ToString(), problem.Extensions["kind"]);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
        Assert.DoesNotContain("llm.internal.example", problem.Detail, StringComparison.Ordinal); // the exception's text stays in the log
    }

    [Fact]
    public void Create_RateLimitedWithAWait_SaysWhenToTryAgainInWholeSeconds()
    {
        var problem = LlmProblems.Create(new LlmException(LlmFailureKind.RateLimited, "429") { RetryAfter = TimeSpan.FromSeconds(19.2) });

        Assert.Equal(20, problem.Extensions["retryAfterSeconds"]);
        Assert.Contains("try again in 20 s", problem.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Chat_UpstreamHangsPastTheTotalTimeout_Is504ProblemDetails()
    {
        await using var app = new SampleApp()
            .With("Llm:Resilience:TotalTimeout", "00:00:00.300")
            .With("Llm:Resilience:AttemptTimeout", "00:00:00.300")
            .With("Llm:Resilience:FirstTokenTimeout", "00:00:00.300")
            .With("Llm:Resilience:StreamIdleTimeout", "00:00:00.300");
        app.Llm.DefaultBehavior = FakeBehavior.Hang();
        using var client = app.CreateClient();

        using var response = await client.PostAsJsonAsync("/chat", new { message = "hi" });

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"kind\":\"Timeout\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
