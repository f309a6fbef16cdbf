using System.Text.Json;
using LlmResilience.Chat;
using Microsoft.Extensions.AI;
using AIChatFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AIChatRole = Microsoft.Extensions.AI.ChatRole;
using ChatFinishReason = LlmResilience.Chat.ChatFinishReason;
using ChatRole = LlmResilience.Chat.ChatRole;

namespace LlmResilience;

/// <summary>A <see cref="ChatCompletion"/> as M.E.AI's <see cref="ChatResponse"/>; the parts shared with streaming.</summary>
internal static class ChatResponseMapping
{
    // Where M.E.AI's OpenAI adapter puts a refusal, so code written against it finds ours in the same place.
    internal const string RefusalKey = "Refusal";

    public static ChatResponse ToResponse(ChatCompletion completion)
    {
        var choice = completion.Choices.Count > 0 ? completion.Choices[0] : null;
        var message = new AIChatMessage
        {
            Role = ToRole(choice?.Message.Role ?? ChatRole.Assistant),
            MessageId = completion.Id,
            RawRepresentation = choice?.Message,
        };
        if (choice is not null)
        {
            var answer = choice.Message;
            if (!string.IsNullOrEmpty(answer.ReasoningContent))
            {
                message.Contents.Add(new TextReasoningContent(answer.ReasoningContent));
            }

            if (!string.IsNullOrEmpty(answer.Content))
            {
                message.Contents.Add(new TextContent(answer.Content));
            }

            if (answer.Refusal is { } refusal)
            {
                (message.AdditionalProperties ??= [])[RefusalKey] = refusal;
            }

            if (answer.ToolCalls is { } calls)
            {
                for (var i = 0; i < calls.Count; i++)
                {
                    var call = ToFunctionCall(calls[i].Id, calls[i].FunctionCall.Name, calls[i].FunctionCall.Arguments);
                    call.RawRepresentation = calls[i];
                    message.Contents.Add(call);
                }
            }
        }

        return new ChatResponse(message)
        {
            ResponseId = completion.Id,
            ModelId = NullIfEmpty(completion.Model),
            CreatedAt = completion.Created == 0 ? null : completion.CreatedAt,
            FinishReason = ToFinishReason(choice?.FinishReason),
            Usage = ToUsage(completion.Usage),
            RawRepresentation = completion,
        };
    }

    internal static AIChatRole ToRole(ChatRole role) =>
        role == ChatRole.Assistant ? AIChatRole.Assistant
        : role == ChatRole.System ? AIChatRole.System
        : role == ChatRole.User ? AIChatRole.User
        : role == ChatRole.Tool ? AIChatRole.Tool
        : new AIChatRole(role.Value);

    internal static AIChatFinishReason? ToFinishReason(ChatFinishReason? reason) => reason switch
    {
        null => null,
        { } r when r == ChatFinishReason.Stop => AIChatFinishReason.Stop,
        { } r when r == ChatFinishReason.Length => AIChatFinishReason.Length,
        { } r when r == ChatFinishReason.ToolCalls || r == ChatFinishReason.FunctionCall => AIChatFinishReason.ToolCalls,
        { } r when r == ChatFinishReason.ContentFilter => AIChatFinishReason.ContentFilter,
        { } r when string.IsNullOrWhiteSpace(r.Value) => null,
        { } r => new AIChatFinishReason(r.Value),
    };

    internal static UsageDetails? ToUsage(ChatUsage? usage)
    {
        if (usage is null)
        {
            return null;
        }

        var details = new UsageDetails
        {
            InputTokenCount = usage.PromptTokens,
            OutputTokenCount = usage.CompletionTokens,
            TotalTokenCount = usage.TotalTokens,
        };
        // Audio and prediction counts go to AdditionalCounts under the official adapter's names (UsageDetails' audio
        // properties are still experimental, MEAI001).
        if (usage.PromptTokensDetails is { } prompt)
        {
            details.CachedInputTokenCount = prompt.CachedTokens;
            (details.AdditionalCounts ??= [])["InputTokenDetails.AudioTokenCount"] = prompt.AudioTokens;
        }

        if (usage.CompletionTokensDetails is { } completion)
        {
            details.ReasoningTokenCount = completion.ReasoningTokens;
            var counts = details.AdditionalCounts ??= [];
            counts["OutputTokenDetails.AudioTokenCount"] = completion.AudioTokens;
            counts["OutputTokenDetails.AcceptedPredictionTokenCount"] = completion.AcceptedPredictionTokens;
            counts["OutputTokenDetails.RejectedPredictionTokenCount"] = completion.RejectedPredictionTokens;
        }

        return details;
    }

    /// <summary>
    /// A tool call as M.E.AI's function call. Arguments that are not a JSON object do not throw here: the call carries the
    /// parse error in <see cref="FunctionCallContent.Exception"/>, which FunctionInvokingChatClient reports back to the model.
    /// </summary>
    internal static FunctionCallContent ToFunctionCall(string id, string name, string arguments) =>
        FunctionCallContent.CreateFromParsedArguments(
            string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments,
            id,
            name,
            static json => (IDictionary<string, object?>?)JsonSerializer.Deserialize(json, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>))));

    internal static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
