namespace LlmResilience.Chat;

/// <summary>The function a <see cref="ChatToolCall"/> called, and its arguments.</summary>
public sealed class ChatFunctionCall
{
    /// <summary>Gets or sets the function's name.</summary>
    public string Name { get => field ?? string.Empty; set; }

    /// <summary>
    /// Gets or sets the arguments as the model wrote them: JSON text that usually, but not always, matches the function's schema.
    /// Validate it before use.
    /// </summary>
    public string Arguments { get => field ?? string.Empty; set; }
}
