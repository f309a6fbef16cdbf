using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Mvc;

namespace LlmResilience.Samples.AspNetCore.Problems;

/// <summary>
/// Turns an <see cref="LlmException"/> into RFC 7807 problem details for the browser: a status that says whose fault it
/// was (429 with <c>Retry-After</c> when the model's service rate limits us, 502/503/504 when it failed, 400 when the
/// message itself was the problem), a friendly <c>detail</c>, and the failure <c>kind</c>. The exception's own message
/// (request ids, upstream host names) stays in the server's log.
/// </summary>
internal static class LlmProblems
{
    /// <summary>Builds the problem details for <paramref name="exception"/>.</summary>
    public static ProblemDetails Create(LlmException exception)
    {
        var retryAfter = RetryAfterSeconds(exception);
        var (status, title, detail) = exception.Kind switch
        {
            LlmFailureKind.RateLimited => (
                StatusCodes.Status429TooManyRequests,
                "Rate limited",
                retryAfter is { } seconds
                    ? $"The AI service is rate limiting us. Try again in {seconds.ToString(CultureInfo.InvariantCulture)} s."
                    : "The AI service is rate limiting us. Try again in a moment."),
            LlmFailureKind.QuotaExceeded => (
                StatusCodes.Status503ServiceUnavailable,
                "Quota exceeded",
                "The AI service's quota for this site is used up. Please tell the site's operator."),
            LlmFailureKind.Timeout => (
                StatusCodes.Status504GatewayTimeout,
                "The AI service timed out",
                "The AI service took too long to answer. Try again."),
            LlmFailureKind.ConnectFailure => (
                StatusCodes.Status503ServiceUnavailable,
                "The AI service is unreachable",
                "The AI service cannot be reached right now. Try again in a moment."),
            LlmFailureKind.StreamInterrupted => (
                StatusCodes.Status502BadGateway,
                "The answer was cut off",
                "The connection to the AI service broke while it was answering. Try again."),
            LlmFailureKind.ContextLengthExceeded => (
                StatusCodes.Status400BadRequest,
                "Message too long",
                "The conversation is too long for the model. Shorten your message."),
            LlmFailureKind.Unauthorized => (
                StatusCodes.Status502BadGateway,
                "The AI service rejected this site",
                "The AI service did not accept this site's credentials. Please tell the site's operator."),
            LlmFailureKind.InvalidResponse => (
                StatusCodes.Status502BadGateway,
                "Unreadable answer",
                "The AI service sent an answer that could not be read. Try again."),
            _ when exception.StatusCode == HttpStatusCode.ServiceUnavailable => (
                StatusCodes.Status503ServiceUnavailable,
                "The AI service is unavailable",
                "The AI service is unavailable right now. Try again in a moment."),
            _ => (
                StatusCodes.Status502BadGateway,
                "The AI service failed",
                "The AI service failed to answer. Try again in a moment."),
        };

        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["kind"] = exception.Kind.ToString();
        if (retryAfter is { } wait)
        {
            problem.Extensions["retryAfterSeconds"] = wait;
        }

        return problem;
    }

    /// <summary>The problem as a result: <c>application/problem+json</c>, with <c>Retry-After</c> on a 429 that knows its wait.</summary>
    public static IResult ToResult(LlmException exception)
    {
        var problem = Create(exception);
        return new ProblemWithRetryAfter(problem, RetryAfterSeconds(exception));
    }

    /// <summary>Whole seconds, rounded up, of the server's own wait hint; only for rate limits.</summary>
    public static int? RetryAfterSeconds(LlmException exception) =>
        exception is { Kind: LlmFailureKind.RateLimited, RetryAfter: { } wait } && wait > TimeSpan.Zero
            ? (int)Math.Ceiling(wait.TotalSeconds)
            : null;

    private sealed class ProblemWithRetryAfter(ProblemDetails problem, int? retryAfterSeconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (retryAfterSeconds is { } seconds)
            {
                httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            return TypedResults.Problem(problem).ExecuteAsync(httpContext);
        }
    }
}
