using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// Why the model stopped generating a choice: <c>stop</c>, <c>length</c>, <c>tool_calls</c>, <c>content_filter</c>,
/// <c>function_call</c>, or any other reason an OpenAI-compatible server sends. Serialized as a plain JSON string.
/// </summary>
/// <remarks>Reasons compare case-insensitively, as <see cref="ChatRole"/>s do; an unknown reason is kept as it was sent.</remarks>
[JsonConverter(typeof(ChatFinishReasonConverter))]
public readonly struct ChatFinishReason : IEquatable<ChatFinishReason>
{
    private readonly string? _value;

    /// <summary>Creates a finish reason from its wire name.</summary>
    /// <param name="value">The reason as the server names it, for example <c>"stop"</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="value"/> is <see langword="null"/>, empty or white space.</exception>
    public ChatFinishReason(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        _value = value;
    }

    // For a value the JSON converters already checked, or one taken from another reason (empty for default); not checked again.
    private ChatFinishReason(string value, bool _) => _value = value;

    /// <summary>Gets the reason of a natural end or a stop sequence (<c>"stop"</c>).</summary>
    public static ChatFinishReason Stop { get; } = new("stop");

    /// <summary>Gets the reason of an answer cut off by the token limit or the context window (<c>"length"</c>).</summary>
    public static ChatFinishReason Length { get; } = new("length");

    /// <summary>Gets the reason of a turn that ends in tool calls, which the caller runs and answers (<c>"tool_calls"</c>).</summary>
    public static ChatFinishReason ToolCalls { get; } = new("tool_calls");

    /// <summary>Gets the reason of content the provider's filter withheld (<c>"content_filter"</c>).</summary>
    public static ChatFinishReason ContentFilter { get; } = new("content_filter");

    /// <summary>Gets the reason of a call of a function through the deprecated <c>functions</c> parameter (<c>"function_call"</c>).</summary>
    public static ChatFinishReason FunctionCall { get; } = new("function_call");

    /// <summary>Gets the reason's wire name; empty for <see langword="default"/>.</summary>
    public string Value => _value ?? string.Empty;

    /// <summary>Returns whether two finish reasons are equal, ignoring case.</summary>
    /// <param name="left">The first reason.</param>
    /// <param name="right">The second reason.</param>
    /// <returns><see langword="true"/> when the reasons have the same name.</returns>
    public static bool operator ==(ChatFinishReason left, ChatFinishReason right) => left.Equals(right);

    /// <summary>Returns whether two finish reasons differ, ignoring case.</summary>
    /// <param name="left">The first reason.</param>
    /// <param name="right">The second reason.</param>
    /// <returns><see langword="true"/> when the reasons have different names.</returns>
    public static bool operator !=(ChatFinishReason left, ChatFinishReason right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(ChatFinishReason other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ChatFinishReason other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    /// <summary>Returns the reason's wire name.</summary>
    /// <returns>The value of <see cref="Value"/>.</returns>
    public override string ToString() => Value;

    /// <summary>Wraps the string a response model keeps (see <see cref="FinishReasonStringConverter"/>).</summary>
    internal static ChatFinishReason FromWire(string value) => new(value, false);
}
