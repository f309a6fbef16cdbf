namespace LlmResilience.Samples.AspNetCore.DevServer;

/// <summary>When the sample runs FakeLlmServer as its LLM.</summary>
internal enum FakeLlmServerMode
{
    /// <summary>When no API key is configured (the default).</summary>
    WhenNoApiKey,

    /// <summary>Always, even with a key (tests).</summary>
    Always,

    /// <summary>Never: the configured endpoint is called, and a missing key fails at start-up.</summary>
    Never,
}

/// <summary>The "FakeLlmServer" section of appsettings.json.</summary>
internal sealed class FakeLlmServerSettings
{
    /// <summary>Gets or sets when the fake server is used.</summary>
    public FakeLlmServerMode Mode { get; set; }

    /// <summary>Gets or sets its port on 127.0.0.1; 0 takes a free one.</summary>
    public int Port { get; set; } = 5081;

    /// <summary>Gets or sets the pause before each streamed token, so answers arrive like a model's.</summary>
    public TimeSpan StreamInterval { get; set; } = TimeSpan.FromMilliseconds(60);

    /// <summary>Gets or sets a value indicating whether the first answer meets a reset and a 429 (retried), so the logs show retries.</summary>
    public bool InjectFaults { get; set; } = true;
}
