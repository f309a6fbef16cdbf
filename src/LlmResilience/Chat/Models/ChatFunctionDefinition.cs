using System.Text.Json;

namespace LlmResilience.Chat;

/// <summary>A function the model may call: its name, description and the JSON schema of its arguments.</summary>
public sealed class ChatFunctionDefinition
{
    /// <summary>Gets the function's name.</summary>
    public string Name { get => field ?? string.Empty; init; }

    /// <summary>Gets what the function does, which the model reads to decide when to call it.</summary>
    public string? Description { get; init; }

    /// <summary>Gets the JSON schema (an object) of the function's arguments, or <see langword="null"/> for none.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>Gets whether the model must follow <see cref="Parameters"/> exactly (structured outputs); <see langword="null"/> leaves it to the server.</summary>
    public bool? Strict { get; init; }
}
