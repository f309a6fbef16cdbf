using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>A tool the model may call: on the wire <c>{"type":"function","function":{…}}</c>. Create one with <see cref="Function"/>.</summary>
public sealed class ChatTool
{
    /// <summary>Gets the tool's type; <c>"function"</c>, the only type chat completions define.</summary>
    public string Type { get; init; } = ChatToolCall.FunctionType;

    /// <summary>Gets the function the model may call (the wire's <c>"function"</c>).</summary>
    [JsonPropertyName("function")]
    public ChatFunctionDefinition? FunctionDefinition { get; init; }

    /// <summary>Creates a function tool.</summary>
    /// <param name="name">The function's name (letters, digits, <c>_</c> and <c>-</c>, at most 64 characters).</param>
    /// <param name="description">What the function does, which the model reads to decide when to call it.</param>
    /// <param name="parameters">A JSON schema (an object) of the arguments; <see langword="null"/> for a function without arguments.</param>
    /// <param name="strict">Whether the model must follow the schema exactly (structured outputs).</param>
    /// <returns>A tool of type <c>"function"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space, or <paramref name="parameters"/> is not a JSON object.</exception>
    public static ChatTool Function(string name, string? description = null, JsonElement? parameters = null, bool? strict = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (parameters is { } schema && schema.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"The parameters must be a JSON schema object, not {schema.ValueKind}.", nameof(parameters));
        }

        return new ChatTool
        {
            FunctionDefinition = new ChatFunctionDefinition
            {
                Name = name,
                Description = description,

                // Detaches the schema from a JsonDocument the caller may dispose; free when it is already detached.
                Parameters = parameters?.Clone(),
                Strict = strict,
            },
        };
    }
}
