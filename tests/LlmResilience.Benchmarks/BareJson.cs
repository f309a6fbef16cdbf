using System.Text.Json.Serialization;

namespace LlmResilience.Benchmarks;

// The bare baseline's own minimal DTOs: what a careful hand-written client declares, no more.

internal sealed class BareRequest
{
    public required string Model { get; init; }

    public required IReadOnlyList<BareMessage> Messages { get; init; }

    public float? Temperature { get; init; }

    public bool? Stream { get; init; }
}

internal sealed class BareMessage
{
    public required string Role { get; init; }

    public string? Content { get; init; }

    public string? Refusal { get; init; }
}

internal sealed class BareCompletion
{
    public string? Id { get; init; }

    public string? Object { get; init; }

    public long Created { get; init; }

    public string? Model { get; init; }

    public IReadOnlyList<BareChoice>? Choices { get; init; }

    public BareUsage? Usage { get; init; }

    public string? ServiceTier { get; init; }

    public string? SystemFingerprint { get; init; }
}

internal sealed class BareChoice
{
    public int Index { get; init; }

    public BareMessage? Message { get; init; }

    public string? FinishReason { get; init; }
}

internal sealed class BareChunk
{
    public string? Id { get; init; }

    public string? Object { get; init; }

    public long Created { get; init; }

    public string? Model { get; init; }

    public IReadOnlyList<BareChunkChoice>? Choices { get; init; }

    public BareUsage? Usage { get; init; }

    public string? ServiceTier { get; init; }

    public string? SystemFingerprint { get; init; }
}

internal sealed class BareChunkChoice
{
    public int Index { get; init; }

    public BareDelta? Delta { get; init; }

    public string? FinishReason { get; init; }
}

internal sealed class BareDelta
{
    public string? Role { get; init; }

    public string? Content { get; init; }

    public string? Refusal { get; init; }
}

internal sealed class BareUsage
{
    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    public int TotalTokens { get; init; }

    public BarePromptTokensDetails? PromptTokensDetails { get; init; }

    public BareCompletionTokensDetails? CompletionTokensDetails { get; init; }
}

internal sealed class BarePromptTokensDetails
{
    public int CachedTokens { get; init; }

    public int AudioTokens { get; init; }
}

internal sealed class BareCompletionTokensDetails
{
    public int ReasoningTokens { get; init; }

    public int AudioTokens { get; init; }

    public int AcceptedPredictionTokens { get; init; }

    public int RejectedPredictionTokens { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BareRequest))]
[JsonSerializable(typeof(BareCompletion))]
[JsonSerializable(typeof(BareChunk))]
internal sealed partial class BareJsonContext : JsonSerializerContext;
