using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// Whether and which tool the model must call: <see cref="Auto"/>, <see cref="None"/> and <see cref="Required"/> are written
/// as strings, <see cref="Function(string)"/> as <c>{"type":"function","function":{"name":…}}</c>.
/// </summary>
[JsonConverter(typeof(ChatToolChoiceConverter))]
public sealed class ChatToolChoice
{
    internal const string AutoType = "auto";
    internal const string NoneType = "none";
    internal const string RequiredType = "required";

    internal ChatToolChoice(string type, string? functionName)
    {
        Type = type;
        FunctionName = functionName;
    }

    /// <summary>Gets the choice that lets the model decide whether to call tools (<c>"auto"</c>, the default when tools are given).</summary>
    public static ChatToolChoice Auto { get; } = new(AutoType, functionName: null);

    /// <summary>Gets the choice that forbids tool calls (<c>"none"</c>).</summary>
    public static ChatToolChoice None { get; } = new(NoneType, functionName: null);

    /// <summary>Gets the choice that makes the model call at least one tool (<c>"required"</c>).</summary>
    public static ChatToolChoice Required { get; } = new(RequiredType, functionName: null);

    /// <summary>Gets the choice's type: <c>"auto"</c>, <c>"none"</c>, <c>"required"</c> or <c>"function"</c>.</summary>
    public string Type { get; }

    /// <summary>Gets the name of the function the model must call when <see cref="Type"/> is <c>"function"</c>; otherwise <see langword="null"/>.</summary>
    public string? FunctionName { get; }

    /// <summary>Creates the choice that makes the model call the named function.</summary>
    /// <param name="name">The function's name.</param>
    /// <returns>A choice of type <c>"function"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
    public static ChatToolChoice Function(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new ChatToolChoice(ChatToolCall.FunctionType, name);
    }

    /// <summary>Returns the choice's type, and the function's name for a function choice.</summary>
    /// <returns>For example <c>"auto"</c> or <c>"function:get_weather"</c>.</returns>
    public override string ToString() => FunctionName is null ? Type : $"{Type}:{FunctionName}";
}
