using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>What one <see cref="ChatCompletionChunk"/> adds to a choice's message; every field may be absent.</summary>
public sealed class ChatMessageDelta
{
    /// <summary>Gets or sets the author, sent on the first chunk only (<c>"assistant"</c>).</summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string? Role { get; set; }

    /// <summary>Gets or sets the next fragment of text.</summary>
    public string? Content { get; set; }

    /// <summary>Gets or sets the next fragment of a refusal.</summary>
    public string? Refusal { get; set; }

    /// <summary>Gets or sets fragments of tool calls; combine them with <see cref="ChatToolCallAccumulator"/>.</summary>
    public IReadOnlyList<ChatToolCallDelta>? ToolCalls { get; set; }

    /// <summary>Gets or sets the next fragment of the reasoning text some OpenAI-compatible servers stream (<c>"reasoning_content"</c>); OpenAI does not send it.</summary>
    public string? ReasoningContent { get; set; }
}
