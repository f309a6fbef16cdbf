using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// A call of a tool by the model: on the wire <c>{"id":…,"type":"function","function":{"name":…,"arguments":…}}</c>.
/// Read from <see cref="ChatResponseMessage.ToolCalls"/>, assembled from a stream by <see cref="ChatToolCallAccumulator"/>,
/// or created with <see cref="Function"/> to replay history.
/// </summary>
public sealed class ChatToolCall
{
    internal const string FunctionType = "function";

    /// <summary>Gets or sets the call's id, which the tool message answering it repeats in <see cref="ChatMessage.ToolCallId"/>.</summary>
    public string Id { get => field ?? string.Empty; set; }

    /// <summary>Gets or sets the call's type; <c>"function"</c>.</summary>
    public string Type { get => field ?? FunctionType; set; }

    /// <summary>Gets or sets the function called and its arguments (the wire's <c>"function"</c>).</summary>
    [JsonPropertyName("function")]
    public ChatFunctionCall FunctionCall { get => field ??= new ChatFunctionCall(); set; }

    /// <summary>Creates a function call.</summary>
    /// <param name="id">The call's id.</param>
    /// <param name="name">The function's name.</param>
    /// <param name="argumentsJson">The arguments as a JSON text, for example <c>{"city":"Paris"}</c>.</param>
    /// <returns>A call of type <c>"function"</c>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="id"/> or <paramref name="name"/> is empty or white space.</exception>
    public static ChatToolCall Function(string id, string name, string argumentsJson)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(argumentsJson);
        return new ChatToolCall
        {
            Id = id,
            FunctionCall = new ChatFunctionCall { Name = name, Arguments = argumentsJson },
        };
    }
}
