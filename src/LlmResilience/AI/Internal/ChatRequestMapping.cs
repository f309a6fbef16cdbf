using System.Text;
using System.Text.Json;
using LlmResilience.Chat;
using Microsoft.Extensions.AI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AIChatRole = Microsoft.Extensions.AI.ChatRole;
using ChatMessage = LlmResilience.Chat.ChatMessage;
using ChatResponseFormat = LlmResilience.Chat.ChatResponseFormat;
using ChatRole = LlmResilience.Chat.ChatRole;

namespace LlmResilience;

/// <summary>
/// M.E.AI's messages and <see cref="ChatOptions"/> as a <see cref="ChatCompletionRequest"/>, written as
/// Microsoft.Extensions.AI.OpenAI writes them for the same options (AIChatClientTests compares the two on the wire).
/// </summary>
internal static class ChatRequestMapping
{
    // The key M.E.AI's OpenAI adapter reads from a function's or a JSON format's AdditionalProperties for "strict".
    internal const string StrictKey = "strictJsonSchema";

    // M.E.AI's options (its type info for argument dictionaries and tool results), but compact: AIJsonUtilities indents,
    // and every space of a tool result sent back is a prompt token billed on each later turn.
    private static readonly JsonSerializerOptions Json = Compact(AIJsonUtilities.DefaultOptions);
    private static readonly JsonElement NullElement = JsonElement.Parse("null");

    public static ChatCompletionRequest ToRequest(IChatClient client, IEnumerable<AIChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);

        // A request from RawRepresentationFactory is the base: what it already sets wins over the options below.
        var request = options?.RawRepresentationFactory?.Invoke(client) as ChatCompletionRequest ?? new ChatCompletionRequest();
        var list = new List<ChatMessage>(request.Messages);
        if (!string.IsNullOrEmpty(options?.Instructions))
        {
            list.Add(ChatMessage.System(options.Instructions));
        }

        var index = 0;
        foreach (var message in messages)
        {
            if (message is null)
            {
                throw new ArgumentException($"Message {index} is null.", nameof(messages));
            }

            AddMessage(list, message);
            index++;
        }

        request.Messages = list;

        // Written on streams only (see ChatStreamOptions): the usage chunk that M.E.AI's telemetry and callers count tokens by.
        request.StreamOptions ??= new ChatStreamOptions { IncludeUsage = true };
        if (options is not null)
        {
            ApplyOptions(request, options);
        }

        return request;
    }

    private static void ApplyOptions(ChatCompletionRequest request, ChatOptions options)
    {
        request.Model ??= options.ModelId;
        request.Temperature ??= options.Temperature;
        request.TopP ??= options.TopP;
        if (request.MaxTokens is null)
        {
            // "max_completion_tokens", as the official adapter sends it; OpenAI's reasoning models reject "max_tokens".
            request.MaxCompletionTokens ??= options.MaxOutputTokens;
        }

        if (request.Stop is null && options.StopSequences is { Count: > 0 } stop)
        {
            request.Stop = [.. stop];
        }

        request.Seed ??= options.Seed;
        request.FrequencyPenalty ??= options.FrequencyPenalty;
        request.PresencePenalty ??= options.PresencePenalty;
        request.ResponseFormat ??= ToResponseFormat(options.ResponseFormat);
        request.ReasoningEffort ??= ToReasoningEffort(options.Reasoning?.Effort);
        ApplyTools(request, options);

        if (options.AdditionalProperties is { Count: > 0 } additional)
        {
            var fields = request.AdditionalProperties ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var (key, value) in additional)
            {
                fields.TryAdd(key, ToJsonElement(value));
            }
        }
    }

    private static void ApplyTools(ChatCompletionRequest request, ChatOptions options)
    {
        if (options.Tools is { Count: > 0 } tools)
        {
            var list = request.Tools is null ? new List<ChatTool>() : new List<ChatTool>(request.Tools);
            foreach (var tool in tools)
            {
                // Chat Completions knows function tools only; hosted tools (web search, code interpreter) have no form here.
                if (tool is AIFunctionDeclaration function)
                {
                    list.Add(ChatTool.Function(
                        function.Name,
                        string.IsNullOrEmpty(function.Description) ? null : function.Description,
                        function.JsonSchema.ValueKind == JsonValueKind.Object ? function.JsonSchema : null,
                        Strict(function.AdditionalProperties)));
                }
            }

            if (list.Count > 0)
            {
                request.Tools = list;
            }
        }

        if (request.Tools is not { Count: > 0 })
        {
            return;
        }

        request.ToolChoice ??= options.ToolMode switch
        {
            NoneChatToolMode => ChatToolChoice.None,
            AutoChatToolMode => ChatToolChoice.Auto,
            RequiredChatToolMode { RequiredFunctionName: { } name } => ChatToolChoice.Function(name),
            RequiredChatToolMode => ChatToolChoice.Required,
            _ => ChatToolChoice.Auto,
        };
        request.ParallelToolCalls ??= options.AllowMultipleToolCalls;
    }

    private static ChatResponseFormat? ToResponseFormat(Microsoft.Extensions.AI.ChatResponseFormat? format) => format switch
    {
        ChatResponseFormatText => ChatResponseFormat.Text,
        ChatResponseFormatJson { Schema: { ValueKind: JsonValueKind.Object } schema } json => ChatResponseFormat.JsonSchema(
            string.IsNullOrWhiteSpace(json.SchemaName) ? "json_schema" : json.SchemaName,
            schema,
            strict: null,
            description: json.SchemaDescription),
        ChatResponseFormatJson => ChatResponseFormat.JsonObject,
        _ => null,
    };

    private static string? ToReasoningEffort(ReasoningEffort? effort) => effort switch
    {
        ReasoningEffort.None => "none",
        ReasoningEffort.Low => "low",
        ReasoningEffort.Medium => "medium",
        ReasoningEffort.High => "high",
        ReasoningEffort.ExtraHigh => "xhigh",
        _ => null,
    };

    private static bool? Strict(IReadOnlyDictionary<string, object?>? properties) =>
        properties is not null && properties.TryGetValue(StrictKey, out var value) && value is bool strict ? strict : null;

    private static void AddMessage(List<ChatMessage> list, AIChatMessage message)
    {
        var role = message.Role;
        var name = string.IsNullOrEmpty(message.AuthorName) ? null : message.AuthorName;
        if (role == AIChatRole.Tool)
        {
            // One tool message per result: the API pairs each with its call by id.
            foreach (var content in message.Contents)
            {
                if (content is FunctionResultContent result)
                {
                    if (string.IsNullOrWhiteSpace(result.CallId))
                    {
                        throw new ArgumentException("A FunctionResultContent needs the CallId of the FunctionCallContent it answers.", nameof(message));
                    }

                    list.Add(ChatMessage.Tool(result.CallId, ResultText(result.Result)));
                }
            }

            return;
        }

        if (role == AIChatRole.Assistant)
        {
            List<ChatToolCall>? calls = null;
            StringBuilder? text = null;
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent { Text: { Length: > 0 } value }:
                        (text ??= new StringBuilder()).Append(value);
                        break;
                    case FunctionCallContent call:
                        (calls ??= []).Add(ToToolCall(call));
                        break;
                }
            }

            list.Add(new ChatMessage(ChatRole.Assistant)
            {
                Content = text?.ToString() ?? (calls is null ? string.Empty : null),
                ToolCalls = calls,
                Name = name,
            });
            return;
        }

        var wireRole = role == AIChatRole.System ? ChatRole.System
            : role == AIChatRole.User ? ChatRole.User
            : new ChatRole(string.IsNullOrEmpty(role.Value) ? ChatRole.User.Value : role.Value);
        list.Add(ToContentMessage(wireRole, message.Contents, name));
    }

    private static ChatMessage ToContentMessage(ChatRole role, IList<AIContent> contents, string? name)
    {
        List<ChatContentPart>? parts = null;
        string? onlyText = null;
        var textParts = 0;
        foreach (var content in contents)
        {
            switch (content)
            {
                case TextContent text:
                    onlyText = text.Text ?? string.Empty;
                    textParts++;
                    (parts ??= []).Add(ChatContentPart.Text(onlyText));
                    break;
                case DataContent data when data.HasTopLevelMediaType("image"):
                    (parts ??= []).Add(ChatContentPart.ImageUrl(data.Uri, Detail(data)));
                    break;
                case UriContent uri when uri.HasTopLevelMediaType("image"):
                    (parts ??= []).Add(ChatContentPart.ImageUrl(uri.Uri.IsAbsoluteUri ? uri.Uri.AbsoluteUri : uri.Uri.OriginalString, Detail(uri)));
                    break;
            }
        }

        // A lone text is written as a string, which every OpenAI-compatible server reads; parts only when needed.
        return parts is null || (parts.Count == 1 && textParts == 1)
            ? new ChatMessage(role, onlyText ?? string.Empty) { Name = name }
            : new ChatMessage(role) { ContentParts = parts, Name = name };
    }

    private static string? Detail(AIContent content) =>
        content.AdditionalProperties?.TryGetValue("detail", out var value) is true ? value?.ToString() : null;

    private static ChatToolCall ToToolCall(FunctionCallContent call)
    {
        if (string.IsNullOrWhiteSpace(call.CallId) || string.IsNullOrWhiteSpace(call.Name))
        {
            throw new ArgumentException("A FunctionCallContent needs a CallId and a Name to be replayed to the model.", nameof(call));
        }

        var arguments = call.Arguments is null
            ? "{}"
            : JsonSerializer.Serialize(call.Arguments, Json.GetTypeInfo(typeof(IDictionary<string, object?>)));
        return ChatToolCall.Function(call.CallId, call.Name, arguments);
    }

    private static string ResultText(object? result) => result switch
    {
        null => string.Empty,
        string text => text,
        JsonElement element => JsonSerializer.Serialize(element, Json.GetTypeInfo(typeof(JsonElement))), // compact, not its raw text
        _ => JsonSerializer.Serialize(result, Json.GetTypeInfo(typeof(object))),
    };

    private static JsonSerializerOptions Compact(JsonSerializerOptions options)
    {
        var compact = new JsonSerializerOptions(options) { WriteIndented = false };
        compact.MakeReadOnly();
        return compact;
    }

    private static JsonElement ToJsonElement(object? value) => value switch
    {
        JsonElement element => element,
        null => NullElement,
        _ => JsonSerializer.SerializeToElement(value, Json.GetTypeInfo(value.GetType())),
    };
}
