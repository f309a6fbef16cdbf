using System.Text.Json;

namespace LlmResilience.Chat;

/// <summary>
/// Checks a deserialized answer against what the OpenAI schema requires, so that the models never hand out a null
/// (or an invented default) where the public API promises an object. The serializer accepts <c>null</c> and absent
/// members everywhere; this is where "the schema requires an object here" is enforced.
/// </summary>
/// <remarks>
/// Legitimate shapes stay accepted: <c>"content": null</c> beside tool calls, a missing <c>usage</c> or
/// <c>system_fingerprint</c>, an empty <c>choices</c> array (usage-only chunks, Azure's prompt-filter chunk), a chunk
/// choice without a <c>delta</c> (Azure's content-filter chunks) and a chunk without <c>choices</c> when it carries
/// <c>usage</c> (usage-only chunks of some compatible servers). Rejected: a completion without <c>choices</c>, a null
/// element in any array, a completion choice without <c>message</c>, a chunk choice whose <c>delta</c> is
/// <c>null</c>, a tool call without <c>function</c>, and a chunk with neither <c>choices</c> nor <c>usage</c>.
/// </remarks>
internal static class ResponseShape
{
    /// <summary>The first required member a completion lacks, as "choices[0].message is null", or <see langword="null"/> when it has them all.</summary>
    public static string? ProblemOf(ChatCompletion completion)
    {
        var choices = completion._choices;
        if (choices is null)
        {
            return "choices is missing or null";
        }

        for (var i = 0; i < choices.Count; i++)
        {
            var choice = choices[i];
            if (choice is null)
            {
                return $"choices[{i}] is null";
            }

            if (choice._message is not { } message)
            {
                return $"choices[{i}].message is missing or null";
            }

            if (ToolCallsProblem(message._toolCalls, i) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>The first required member a stream chunk lacks, or <see langword="null"/> when it has them all.</summary>
    public static string? ProblemOf(ChatCompletionChunk chunk)
    {
        var choices = chunk._choices;
        if (choices is null)
        {
            return chunk._usage is null ? "choices is missing or null and the chunk carries no usage" : null;
        }

        for (var i = 0; i < choices.Count; i++)
        {
            var choice = choices[i];
            if (choice is null)
            {
                return $"choices[{i}] is null";
            }

            if (choice._deltaWasNull)
            {
                return $"choices[{i}].delta is null";
            }

            if (choice._delta?._toolCalls is { } toolCalls)
            {
                for (var j = 0; j < toolCalls.Count; j++)
                {
                    if (toolCalls[j] is null)
                    {
                        return $"choices[{i}].delta.tool_calls[{j}] is null";
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Throws what the stream parser reports as an invalid event when <paramref name="chunk"/> lacks a required member.</summary>
    /// <exception cref="JsonException">The chunk lacks a member the schema requires; the message names it.</exception>
    public static ChatCompletionChunk Checked(ChatCompletionChunk chunk) =>
        ProblemOf(chunk) is { } problem
            ? throw new JsonException($"{problem}, where the schema requires an object")
            : chunk;

    /// <summary>The message of the InvalidResponse failure for a completion that lacks <paramref name="problem"/>.</summary>
    public static string Describe(string endpoint, string problem, string? requestId) =>
        $"The response from {endpoint} is not a usable chat.completion: {problem}, where the schema requires an object" +
        (requestId is null ? "." : $" (request id {requestId}).");

    // The message's path is written only for a problem: this runs on every answer.
    private static string? ToolCallsProblem(IReadOnlyList<ChatToolCall>? toolCalls, int choice)
    {
        if (toolCalls is null)
        {
            return null;
        }

        for (var j = 0; j < toolCalls.Count; j++)
        {
            if (toolCalls[j] is not { } toolCall)
            {
                return $"choices[{choice}].message.tool_calls[{j}] is null";
            }

            if (!toolCall.HasFunctionCall)
            {
                return $"choices[{choice}].message.tool_calls[{j}].function is missing or null";
            }
        }

        return null;
    }
}
