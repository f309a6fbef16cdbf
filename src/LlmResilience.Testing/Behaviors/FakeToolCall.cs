namespace LlmResilience.Testing;

/// <summary>A tool call that <see cref="FakeBehavior.ToolCalls"/> answers with: the function's name and its JSON arguments.</summary>
public sealed class FakeToolCall
{
    /// <summary>Creates a tool call.</summary>
    /// <param name="name">The function the model calls.</param>
    /// <param name="argumentsJson">The arguments as JSON text, for example <c>{"city":"Paris"}</c>; sent as they are, valid or not.</param>
    /// <param name="id">The call's id; <see langword="null"/> generates one shaped like OpenAI's (<c>call_…</c>).</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space, or <paramref name="id"/> is empty or white space.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="argumentsJson"/> is <see langword="null"/>.</exception>
    public FakeToolCall(string name, string argumentsJson, string? id = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(argumentsJson);
        if (id is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(id);
        }

        Name = name;
        ArgumentsJson = argumentsJson;
        Id = id;
    }

    /// <summary>Gets the function the model calls.</summary>
    public string Name { get; }

    /// <summary>Gets the arguments as JSON text.</summary>
    public string ArgumentsJson { get; }

    /// <summary>Gets the call's id, or <see langword="null"/> when each answer generates its own.</summary>
    public string? Id { get; }

    /// <summary>Returns the call as the model would write it.</summary>
    /// <returns>For example <c>get_weather({"city":"Paris"})</c>.</returns>
    public override string ToString() => $"{Name}({ArgumentsJson})";
}
