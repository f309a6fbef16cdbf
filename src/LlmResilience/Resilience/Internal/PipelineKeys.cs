using Polly;

namespace LlmResilience;

/// <summary>What the pipeline's strategies read from the Polly context: the call, and the attempt that just ran.</summary>
internal static class PipelineKeys
{
    public static readonly ResiliencePropertyKey<LlmCall> Call = new("LlmResilience.Call");
    public static readonly ResiliencePropertyKey<LlmAttempt> Attempt = new("LlmResilience.Attempt");
}
