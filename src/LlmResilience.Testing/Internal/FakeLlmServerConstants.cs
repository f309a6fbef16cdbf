namespace LlmResilience.Testing;

/// <summary>The fixed settings of the fake server, in one place.</summary>
internal static class FakeLlmServerConstants
{
    /// <summary>How long <see cref="FakeLlmServer.DisposeAsync"/> lets Kestrel drain before it aborts what is left.</summary>
    /// <remarks>Hanging behaviors are cancelled first, so nothing should be left; 100 ms keeps a test's dispose well under a second.</remarks>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Kestrel's keep-alive timeout: generous, so the client (or <see cref="FakeBehavior.IdleKeepAliveClose"/>) decides when an idle connection ends.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The value of the <c>openai-version</c> header the real API sends.</summary>
    public const string OpenAiVersion = "2020-10-01";

    /// <summary>The <c>system_fingerprint</c> of every completion.</summary>
    public const string SystemFingerprint = "fp_fake";

    /// <summary>The content type of a JSON response, as the real API sends it.</summary>
    public const string JsonContentType = "application/json";

    /// <summary>The content type of a streamed response, as the real API sends it.</summary>
    public const string EventStreamContentType = "text/event-stream; charset=utf-8";
}
