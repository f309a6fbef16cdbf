namespace LlmResilience.Tests.Helpers;

/// <summary>Sets an environment variable for the length of a test and restores it. Tests that use it belong to
/// <see cref="EnvironmentCollection"/>, so no other test reads the variable meanwhile.</summary>
public sealed class EnvironmentVariableScope : IDisposable
{
    private readonly string _name;
    private readonly string? _previous;

    public EnvironmentVariableScope(string name, string? value)
    {
        _name = name;
        _previous = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
}

/// <summary>Test classes that read or change OPENAI_API_KEY run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class EnvironmentCollection
{
    public const string Name = "Environment variables";
}
