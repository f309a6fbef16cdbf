namespace LlmResilience.Chat;

/// <summary>A fragment of a streamed function call.</summary>
public sealed class ChatFunctionCallDelta
{
    /// <summary>Gets or sets the function's name, on the call's first fragment.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets the next piece of the arguments' JSON text.</summary>
    public string? Arguments { get; set; }
}
