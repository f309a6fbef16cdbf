using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The message of a <see cref="ChatChoice"/>: the model's text, refusal or tool calls.</summary>
public sealed class ChatResponseMessage
{
    /// <summary>Gets or sets the author, <c>"assistant"</c>.</summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string Role { get => field ?? "assistant"; set; }

    /// <summary>Gets or sets the text, or <see langword="null"/> when the model only called tools or refused.</summary>
    public string? Content { get; set; }

    /// <summary>Gets or sets the model's refusal to answer, or <see langword="null"/>.</summary>
    public string? Refusal { get; set; }

    /// <summary>Gets or sets the tools the model called, or <see langword="null"/> for none.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; set; }

    /// <summary>
    /// Gets or sets the reasoning text some OpenAI-compatible servers return beside the answer (DeepSeek and vLLM's
    /// <c>"reasoning_content"</c>); OpenAI does not send it.
    /// </summary>
    public string? ReasoningContent { get; set; }

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

        return new ChatMessage(Role == "assistant" || string.IsNullOrWhiteSpace(Role) ? ChatRole.Assistant : new ChatRole(Role))
        {
            Content = Content,
            Refusal = Refusal,
            ToolCalls = toolCalls,
        };
    }
}
