using LlmResilience.Chat;
using Microsoft.Extensions.AI;
using AIChatFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using AIChatRole = Microsoft.Extensions.AI.ChatRole;

namespace LlmResilience;

/// <summary>
/// The chunks of one stream as <see cref="ChatResponseUpdate"/>s: text, reasoning and usage as they arrive; tool-call
/// fragments collected by <see cref="ChatToolCallAccumulator"/> and handed out whole, as <see cref="FunctionCallContent"/>s,
/// in one update after the last chunk (a fragment of JSON arguments cannot be invoked).
/// </summary>
/// <remarks>Not thread-safe: one instance per stream, fed in order.</remarks>
internal sealed class ChatStreamMapping
{
    private readonly ChatToolCallAccumulator _toolCalls = new();
    private AIChatRole? _role;
    private AIChatFinishReason? _finishReason;
    private string? _responseId;
    private string? _modelId;
    private DateTimeOffset? _createdAt;

    /// <summary>The update for one chunk; <see langword="null"/> for a chunk that only carried tool-call fragments.</summary>
    public ChatResponseUpdate? ToUpdate(ChatCompletionChunk chunk)
    {
        _responseId ??= ChatResponseMapping.NullIfEmpty(chunk.Id);
        _modelId ??= ChatResponseMapping.NullIfEmpty(chunk.Model);
        _createdAt ??= chunk.Created == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(chunk.Created, 0, 253_402_300_799));

        var update = new ChatResponseUpdate
        {
            ResponseId = _responseId,
            MessageId = _responseId,
            ModelId = _modelId,
            CreatedAt = _createdAt,
            RawRepresentation = chunk,
        };

        var hadToolCalls = false;
        var choices = chunk.Choices;
        for (var i = 0; i < choices.Count; i++)
        {
            var choice = choices[i];
            if (choice.Index != 0)
            {
                continue; // IChatClient has one answer per call; N > 1 is for the typed client.
            }

            var delta = choice.Delta;
            if (delta.Role is { } role)
            {
                _role ??= ChatResponseMapping.ToRole(role);
            }

            if (choice.FinishReason is { } reason)
            {
                _finishReason ??= ChatResponseMapping.ToFinishReason(reason);
            }

            if (!string.IsNullOrEmpty(delta.ReasoningContent))
            {
                update.Contents.Add(new TextReasoningContent(delta.ReasoningContent));
            }

            if (!string.IsNullOrEmpty(delta.Content))
            {
                update.Contents.Add(new TextContent(delta.Content));
            }

            if (!string.IsNullOrEmpty(delta.Refusal))
            {
                (update.AdditionalProperties ??= [])[ChatResponseMapping.RefusalKey] = delta.Refusal;
            }

            hadToolCalls |= delta.ToolCalls is { Count: > 0 };
        }

        _toolCalls.Append(chunk);
        if (ChatResponseMapping.ToUsage(chunk.Usage) is { } usage)
        {
            update.Contents.Add(new UsageContent(usage));
        }

        update.Role = _role;
        update.FinishReason = _finishReason;
        return hadToolCalls && update.Contents.Count == 0 && update.AdditionalProperties is null ? null : update;
    }

    /// <summary>After the last chunk: one update with every tool call, whole; <see langword="null"/> when the model called none.</summary>
    public ChatResponseUpdate? ToolCallsUpdate()
    {
        if (_toolCalls.Count == 0)
        {
            return null;
        }

        var update = new ChatResponseUpdate
        {
            Role = _role ?? AIChatRole.Assistant,
            ResponseId = _responseId,
            MessageId = _responseId,
            ModelId = _modelId,
            CreatedAt = _createdAt,
            FinishReason = _finishReason,
        };
        foreach (var call in _toolCalls.Build())
        {
            if (!string.IsNullOrWhiteSpace(call.FunctionCall.Name))
            {
                var content = ChatResponseMapping.ToFunctionCall(call.Id, call.FunctionCall.Name, call.FunctionCall.Arguments);
                content.RawRepresentation = call;
                update.Contents.Add(content);
            }
        }

        return update;
    }
}
