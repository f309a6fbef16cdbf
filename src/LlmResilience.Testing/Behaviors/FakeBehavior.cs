using Microsoft.AspNetCore.Http;

namespace LlmResilience.Testing;

/// <summary>
/// How a <see cref="FakeLlmServer"/> answers one request: a success, an API error, a proxy's error page, or a fault on the
/// wire. Instances come from the static factories, are immutable, and may be enqueued any number of times.
/// </summary>
/// <remarks>
/// Every behavior runs after the request body was read in full. Behaviors that wait (hangs, stalls, delays, keep-alive
/// comments) end when the client disconnects or the server is disposed; disposal aborts their connections.
/// </remarks>
public abstract partial class FakeBehavior
{
    private readonly string _description;

    private protected FakeBehavior(string name, string? description = null)
    {
        Name = name;
        _description = description ?? name;
    }

    /// <summary>Gets the behavior's name, as recorded in <see cref="RecordedRequest.BehaviorName"/>, for example <c>ResetBeforeHeaders</c>.</summary>
    public string Name { get; }

    /// <summary>Returns the name with the behavior's arguments, for example <c>Delay(150 ms, then Ok)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => _description;

    /// <summary>Answers one request; returns when the answer is complete or the connection was ended.</summary>
    internal abstract Task ExecuteAsync(FakeRequestContext context);

    /// <summary>
    /// Custom escape hatch: <paramref name="handler"/> writes the response itself. The OpenAI headers (<c>x-request-id</c>,
    /// <c>openai-processing-ms</c>, <c>openai-version</c>) are already set; the token is cancelled when the client goes
    /// away or the server is disposed.
    /// </summary>
    /// <param name="name">The name recorded in <see cref="RecordedRequest.BehaviorName"/>.</param>
    /// <param name="handler">Writes the response.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior Custom(string name, Func<HttpContext, CancellationToken, Task> handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(handler);
        return new CustomBehavior(name, handler);
    }
}
