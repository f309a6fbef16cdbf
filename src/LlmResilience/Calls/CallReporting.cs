using Microsoft.Extensions.Logging;

namespace LlmResilience;

/// <summary>
/// Reports a call once it has ended, from its record alone: the failure counter and the "gave up" log line. Called by
/// the call's owner (the typed client, or the pipeline for calls it created), exactly once per call.
/// </summary>
internal static class CallReporting
{
    public static void Complete(LlmCall call, ILogger logger, LlmMetrics metrics)
    {
        call.Telemetry?.End(call); // telemetry: the call's span and metrics end with its verdict
        if (!call.TryComplete() || call.Failure is not { } failure)
        {
            return;
        }

        var last = call.LastAttempt;
        metrics.RecordFailure(failure.Kind, last?.RequestUri, last?.Endpoint.Name);
        // A broken stream has its own line (with the chunk count), written where the chunks are counted.
        if (failure.Kind != LlmFailureKind.StreamInterrupted && logger.IsEnabled(LogLevel.Warning))
        {
            Log.GivingUp(logger, ClientName(call), Endpoints.Describe(last?.RequestUri), LlmFailures.Count(call.AttemptCount), failure.Kind,
                last?.Failure?.Reason ?? failure.Kind.ToString(), Describe(call.StopReason), failure.RequestId);
        }
    }

    public static string ClientName(LlmCall call) => string.IsNullOrEmpty(call.ClientName) ? "default" : call.ClientName;

    private static string Describe(CallStopReason reason) => reason switch
    {
        CallStopReason.NotRetryable => "not retryable",
        CallStopReason.AttemptsExhausted => "no retries left",
        CallStopReason.RetryAfterTooLong => "the server's wait exceeds MaxRetryAfter",
        CallStopReason.WouldOutliveTotalTimeout => "the next wait would outlive TotalTimeout",
        CallStopReason.ServerSaidDoNotRetry => "x-should-retry: false",
        CallStopReason.TotalTimeout => "TotalTimeout expired",
        CallStopReason.FailedAfterResponse => "the answer could not be used",
        CallStopReason.NoEndpointAvailable => "no endpoint available",
        CallStopReason.RetryBudgetExhausted => "the retry budget is spent",
        CallStopReason.PacedOut => "paced locally, nothing sent",
        CallStopReason.TooLargeForEveryWindow => "larger than every context window, nothing sent",
        _ => "stopped",
    };
}
