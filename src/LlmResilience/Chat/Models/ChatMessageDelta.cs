using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>What one <see cref="ChatCompletionChunk"/> adds to a choice's message; every field may be absent.</summary>
public sealed class ChatMessageDelta
{
    // The JSON members: fields, not the init-only properties (see the remarks on LlmJsonContext).
    [JsonInclude]
    [JsonPropertyName("role")]
    [JsonConverter(typeof(RoleStringConverter))]
    internal string? _role;

    [JsonInclude]
    [JsonPropertyName("content")]
    internal string? _content;

    [JsonInclude]
    [JsonPropertyName("refusal")]
    internal string? _refusal;

    [JsonInclude]
    [JsonPropertyName("tool_calls")]
    internal IReadOnlyList<ChatToolCallDelta>? _toolCalls;

    [JsonInclude]
    [JsonPropertyName("reasoning_content")]
    internal string? _reasoningContent;

    /// <summary>Gets the author, sent on the first chunk only (<see cref="ChatRole.Assistant"/>); otherwise <see langword="null"/>.</summary>
    [JsonIgnore]
    public ChatRole? Role { get => _role is { } role ? ChatRole.FromWire(role) : null; init => _role = value?.Value; }

    /// <summary>Gets the next fragment of text.</summary>
    [JsonIgnore]
    public string? Content { get => _content; init => _content = value; }

    /// <summary>Gets the next fragment of a refusal.</summary>
    [JsonIgnore]
    public string? Refusal { get => _refusal; init => _refusal = value; }

    /// <summary>Gets fragments of tool calls; combine them with <see cref="ChatToolCallAccumulator"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<ChatToolCallDelta>? ToolCalls { get => _toolCalls; init => _toolCalls = value; }

    /// <summary>Gets the next fragment of the reasoning text some OpenAI-compatible servers stream (<c>"reasoning_content"</c>); OpenAI does not send it.</summary>
    [JsonIgnore]
    public string? ReasoningContent { get => _reasoningContent; init => _reasoningContent = value; }
}
