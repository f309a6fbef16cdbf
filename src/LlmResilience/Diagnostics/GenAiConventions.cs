namespace LlmResilience;

/// <summary>
/// The OpenTelemetry semantic conventions for generative AI clients that LlmResilience records: attribute names,
/// well-known values and the histograms' advised bucket boundaries (the conventions' <c>ExplicitBucketBoundaries</c>).
/// </summary>
internal static class GenAiConventions
{
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string ResponseId = "gen_ai.response.id";
    public const string FinishReasons = "gen_ai.response.finish_reasons";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string TokenType = "gen_ai.token.type";
    public const string Temperature = "gen_ai.request.temperature";
    public const string TopP = "gen_ai.request.top_p";
    public const string MaxTokens = "gen_ai.request.max_tokens";
    public const string FrequencyPenalty = "gen_ai.request.frequency_penalty";
    public const string PresencePenalty = "gen_ai.request.presence_penalty";
    public const string StopSequences = "gen_ai.request.stop_sequences";
    public const string Seed = "gen_ai.request.seed";
    public const string ChoiceCount = "gen_ai.request.choice.count";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string ErrorType = "error.type";
    public const string HttpStatusCode = "http.response.status_code";

    public const string Chat = "chat";
    public const string OpenAi = "openai";
    public const string AzureOpenAi = "azure.ai.openai";
    public const string Input = "input";
    public const string Output = "output";

    // Ours, beside the conventions' (llm.* like the existing llm.failure_kind and llm.endpoint).
    public const string RequestId = "llm.request_id";
    public const string AttemptCount = "llm.attempts";
    public const string FailureKind = "llm.failure_kind";
    public const string Attempt = "llm.attempt";
    public const string AttemptOutcome = "llm.attempt.outcome";
    public const string RetrySource = "llm.retry.source";
    public const string RetryDelayMs = "llm.retry.delay_ms";
    public const string FailoverTo = "llm.failover.to";
    public const string Availability = "llm.availability";
    public const string Stall = "llm.stall";
    public const string BreakerState = "llm.breaker.state";

    public const string RetryEvent = "llm.retry";
    public const string FailoverEvent = "llm.failover";
    public const string EndpointWaitEvent = "llm.endpoint.wait";

    /// <summary>The conventions' boundaries for <c>gen_ai.client.operation.duration</c> and <c>time_to_first_chunk</c> (seconds).</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    /// <summary>The conventions' boundaries for <c>gen_ai.client.token.usage</c>.</summary>
    public static readonly IReadOnlyList<long> TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    /// <summary>Ours for retry waits (seconds): an immediate retry up to a long server hint.</summary>
    public static readonly IReadOnlyList<double> RetryDelayBuckets = [0, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];

    /// <summary><c>gen_ai.provider.name</c> for an address: Azure OpenAI hosts are <c>azure.ai.openai</c>; OpenAI and every other OpenAI-compatible API <c>openai</c> (the API spoken).</summary>
    public static string ProviderOf(Uri? address) => EndpointTargets.IsAzure(address) ? AzureOpenAi : OpenAi;

    public static string Describe(RetryDelaySource source) => source switch
    {
        RetryDelaySource.ServerHint => "server_hint",
        RetryDelaySource.Backoff => "backoff",
        RetryDelaySource.Immediate => "immediate",
        RetryDelaySource.Failover => "failover",
        RetryDelaySource.EndpointCooldown => "endpoint_cooldown",
        _ => "none",
    };

    public static string Describe(AttemptEnd end) => end switch
    {
        AttemptEnd.Succeeded => "succeeded",
        AttemptEnd.Failed => "failed",
        AttemptEnd.AttemptTimedOut => "attempt_timeout",
        AttemptEnd.TotalTimedOut => "total_timeout",
        AttemptEnd.Cancelled => "cancelled",
        _ => "running",
    };
}

/// <summary>The values of <c>llm.stall</c>, carried by the stall's <see cref="LlmException"/>.</summary>
internal static class StreamStalls
{
    public const string FirstEvent = "first_event";
    public const string Idle = "idle";
}
