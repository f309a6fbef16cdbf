using Microsoft.Extensions.Logging;

namespace LlmResilience.Testing;

/// <summary>Settings of a <see cref="FakeLlmServer"/>, read once by <see cref="FakeLlmServer.StartAsync"/>.</summary>
public sealed class FakeLlmServerOptions
{
    /// <summary>Gets or sets the model name echoed in every completion and chunk.</summary>
    /// <value>The default value is <c>"fake-model"</c>.</value>
    public string Model { get; set; } = "fake-model";

    /// <summary>
    /// Gets or sets the assistant text of <see cref="FakeBehavior.Ok"/> when no content is given, and the source of the
    /// content deltas of the streaming faults (split into word pieces, repeated when more are needed).
    /// </summary>
    /// <value>The default value is <c>"Hello from FakeLlmServer."</c>.</value>
    public string DefaultContent { get; set; } = "Hello from FakeLlmServer.";

    /// <summary>
    /// Gets or sets a value indicating whether a request must carry <c>Authorization: Bearer {ApiKey}</c>. A request without it
    /// is answered 401 with OpenAI's <c>invalid_api_key</c> error and does not consume a scripted behavior.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequireApiKey { get; set; }

    /// <summary>Gets or sets the API key that <see cref="RequireApiKey"/> checks; required when it is <see langword="true"/>.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Gets or sets the clock of <see cref="RecordedRequest.ReceivedAt"/> and of the <c>created</c> field of responses.
    /// Delays, hangs and idle timeouts on the wire always run on real time: sockets do not know about fake clocks.
    /// </summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory handed to Kestrel and ASP.NET Core; <see langword="null"/> logs nothing.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal FakeLlmServerOptions Snapshot()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Model, nameof(Model));
        ArgumentNullException.ThrowIfNull(DefaultContent, nameof(DefaultContent));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        if (RequireApiKey && string.IsNullOrEmpty(ApiKey))
        {
            throw new ArgumentException(
                $"{nameof(RequireApiKey)} is true but {nameof(ApiKey)} is empty: set {nameof(ApiKey)} to the key requests must carry.",
                nameof(ApiKey));
        }

        return new FakeLlmServerOptions
        {
            Model = Model,
            DefaultContent = DefaultContent,
            RequireApiKey = RequireApiKey,
            ApiKey = ApiKey,
            TimeProvider = TimeProvider,
            LoggerFactory = LoggerFactory,
        };
    }
}
