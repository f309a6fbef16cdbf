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

    private string? _id;
    private string? _type;
    private ChatFunctionCall? _functionCall;

    /// <summary>Gets the call's id, which the tool message answering it repeats in <see cref="ChatMessage.ToolCallId"/>.</summary>
    [JsonIgnore]
    public string Id { get => _id ?? string.Empty; init => _id = value; }

    /// <summary>Gets the call's type; <c>"function"</c>.</summary>
    [JsonIgnore]
    public string Type { get => _type ?? FunctionType; init => _type = value; }

    /// <summary>Whether the function object was set (the answer had one); read before <see cref="FunctionCall"/> supplies a default.</summary>
    internal bool HasFunctionCall => _functionCall is not null;

    /// <summary>Gets the function called and its arguments (the wire's <c>"function"</c>).</summary>
    [JsonIgnore]
    public ChatFunctionCall FunctionCall { get => _functionCall ??= new ChatFunctionCall(); init => _functionCall = value; }

    // The JSON members, not the init-only properties (see the remarks on LlmJsonContext). Requests replay tool calls, so
    // these write what the properties read, defaults included.
    [JsonInclude]
    [JsonPropertyName("id")]
    internal string WireId { get => Id; set => _id = value; }

    [JsonInclude]
    [JsonPropertyName("type")]
    internal string WireType { get => Type; set => _type = value; }

    [JsonInclude]
    [JsonPropertyName("function")]
    internal ChatFunctionCall WireFunctionCall { get => FunctionCall; set => _functionCall = value; }

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
