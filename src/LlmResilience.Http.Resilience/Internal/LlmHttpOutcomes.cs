using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace LlmResilience.Http.Resilience;

/// <summary>
/// The core's rules on MEHR's strategies: which outcome is retried, how long to wait, and what counts against the circuit.
/// Every verdict comes from the core's <see cref="LlmFailures"/> and <see cref="ServerRetryHints"/>, so both routes agree.
/// </summary>
internal sealed class LlmHttpOutcomes(LlmHttpResilienceOptions options, TimeProvider time)
{
    // Enough for any API error body; a larger one is read as no body (classified by status alone).
    private const int MaxErrorBodyBytes = 64 * 1024;

    /// <summary>Retry.ShouldHandle: the core's verdict, and no wait above <see cref="LlmHttpResilienceOptions.MaxRetryAfter"/>.</summary>
    public async ValueTask<bool> ShouldRetryAsync(RetryPredicateArguments<HttpResponseMessage> args)
    {
        if (args.Context.CancellationToken.IsCancellationRequested)
        {
            return false;
        }

        var failure = await ClassifyAsync(args.Outcome, args.Context.CancellationToken).ConfigureAwait(false);
        if (failure is null)
        {
            // Not something the core classifies (an exception of another library): MEHR's own transient check decides.
            return args.Outcome.Exception is not null && HttpClientResiliencePredicates.IsTransient(args.Outcome);
        }

        return failure.Retryable && !(failure.RetryAfter > options.MaxRetryAfter);
    }

    /// <summary>CircuitBreaker.ShouldHandle: failures worth retrying count, except 429, the server pacing us rather than failing.</summary>
    public async ValueTask<bool> ShouldBreakAsync(CircuitBreakerPredicateArguments<HttpResponseMessage> args)
    {
        var failure = await ClassifyAsync(args.Outcome, args.Context.CancellationToken).ConfigureAwait(false);
        return failure is { Retryable: true } && failure.Kind != LlmFailureKind.RateLimited;
    }

    /// <summary>Retry.DelayGenerator: the server's hint; zero after a first reset before headers; otherwise MEHR's backoff.</summary>
    public ValueTask<TimeSpan?> DelayAsync(RetryDelayGeneratorArguments<HttpResponseMessage> args)
    {
        if (args.Outcome.Result is { } response)
        {
            return new(ServerRetryHints.GetRetryAfter(response.Headers, (int)response.StatusCode, time.GetUtcNow()));
        }

        // The request never reached the model (a stale pooled connection, most often): the next connection is fresh.
        return args.Outcome.Exception is { } exception && args.AttemptNumber == 0
            && TransportFailures.Classify(exception).Kind == LlmFailureKind.ResetBeforeHeaders
            ? new(TimeSpan.Zero)
            : new((TimeSpan?)null);
    }

    private async ValueTask<AttemptFailure?> ClassifyAsync(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken)
    {
        if (outcome.Exception is { } exception)
        {
            var (kind, _) = TransportFailures.Classify(exception);
            return kind == LlmFailureKind.Unknown ? null : LlmFailures.FromException(exception);
        }

        if (outcome.Result is not { IsSuccessStatusCode: false } response)
        {
            return null;
        }

        return LlmFailures.FromResponse(response, await ReadErrorBodyAsync(response, cancellationToken).ConfigureAwait(false), time.GetUtcNow(), secret: null);
    }

    // Buffered, so the caller can still read the body of the response the pipeline ends with.
    private static async Task<byte[]> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > MaxErrorBodyBytes)
        {
            return [];
        }

        try
        {
            await response.Content.LoadIntoBufferAsync(MaxErrorBodyBytes, cancellationToken).ConfigureAwait(false);
            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            return [];
        }
    }
}
