namespace LlmResilience.Samples.AspNetCore.Tests;

/// <summary>One sample app per test class: starting it (and its FakeLlmServer) once keeps the class fast.</summary>
public sealed class SampleAppFixture : IAsyncLifetime
{
    public SampleApp App { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => App.DisposeAsync().AsTask();
}
