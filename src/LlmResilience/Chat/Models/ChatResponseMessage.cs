using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The message of a <see cref="ChatChoice"/>: the model's text, refusal or tool calls.</summary>
public sealed class ChatResponseMessage
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
    internal IReadOnlyList<ChatToolCall>? _toolCalls;

    [JsonInclude]
    [JsonPropertyName("reasoning_content")]
    internal string? _reasoningContent;

    /// <summary>Gets the author: <see cref="ChatRole.Assistant"/>, also when the server left the role out.</summary>
    [JsonIgnore]
    public ChatRole Role { get => _role is { } role ? ChatRole.FromWire(role) : ChatRole.Assistant; init => _role = value.Value; }

    /// <summary>Gets the text, or <see langword="null"/> when the model only called tools or refused.</summary>
    [JsonIgnore]
    public string? Content { get => _content; init => _content = value; }

    /// <summary>Gets the model's refusal to answer, or <see langword="null"/>.</summary>
    [JsonIgnore]
    public string? Refusal { get => _refusal; init => _refusal = value; }

    /// <summary>Gets the tools the model called, or <see langword="null"/> for none.</summary>
    [JsonIgnore]
    public IReadOnlyList<ChatToolCall>? ToolCalls { get => _toolCalls; init => _toolCalls = value; }

    /// <summary>
    /// Gets the reasoning text some OpenAI-compatible servers return beside the answer (DeepSeek and vLLM's
    /// <c>"reasoning_content"</c>); OpenAI does not send it.
    /// </summary>
    [JsonIgnore]
    public string? ReasoningContent { get => _reasoningContent; init => _reasoningContent = value; }

    /// <summary>
    /// Creates the request message that replays this one, to append to the conversation before the next turn (for example
    /// before the results of its tool calls).
    /// </summary>
    /// <returns>An assistant message with the same content, refusal and tool calls.</returns>
    public ChatMessage ToChatMessage()
    {
        List<ChatToolCall>? toolCalls = null;
        if (ToolCalls is { Count: > 0 } calls)
        {
            toolCalls = new List<ChatToolCall>(calls.Count);
            for (var i = 0; i < calls.Count; i++)
            {
                toolCalls.Add(calls[i]);
            }
        }

        return new ChatMessage(string.IsNullOrEmpty(Role.Value) ? ChatRole.Assistant : Role)
        {
            Content = Content,
            Refusal = Refusal,
            ToolCalls = toolCalls,
        };
    }
}
