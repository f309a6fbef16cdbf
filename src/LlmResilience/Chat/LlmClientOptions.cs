namespace LlmResilience;

/// <summary>Where and how an <see cref="IChatCompletionsClient"/> calls an OpenAI-compatible API.</summary>
/// <remarks>
/// Validated at start-up (and by <see cref="ChatCompletionsClient.Create(LlmClientOptions, Microsoft.Extensions.Logging.ILoggerFactory?, TimeProvider?)"/>):
/// a remote endpoint needs an API key and <c>https</c>; the base address must not already end in <c>chat/completions</c>;
/// timeouts must be positive and consistent. <see cref="ToString"/> never shows the API key, nor a user name, password
/// or query string in <see cref="BaseAddress"/>.
/// </remarks>
public sealed class LlmClientOptions
{
    /// <summary>
    /// The environment variable <see cref="ApiKey"/> is read from when it is not set and <see cref="BaseAddress"/> is
    /// OpenAI's own API (host <c>api.openai.com</c>). It is ignored for every other host, so an OpenAI key is never sent
    /// to a third-party endpoint or gateway by default: set <see cref="ApiKey"/> for those.
    /// </summary>
    public const string ApiKeyEnvironmentVariable = "OPENAI_API_KEY";

    /// <summary>The only host <see cref="ApiKeyEnvironmentVariable"/> is sent to by default.</summary>
    internal const string OpenAiHost = "api.openai.com";

    /// <summary>The API's base address; <c>chat/completions</c> is appended to it. A missing trailing slash is added.</summary>
    /// <value>The default value is <c>https://api.openai.com/v1/</c>.</value>
    public Uri? BaseAddress { get; set; } = new("https://api.openai.com/v1/");

    /// <summary>The API key sent as <c>Authorization: Bearer</c>. Never logged, never in an exception message or <see cref="ToString"/>.</summary>
    /// <value>
    /// When <see cref="BaseAddress"/> is OpenAI's own API (<c>https://api.openai.com/...</c>), the default value is the
    /// <c>OPENAI_API_KEY</c> environment variable, read when the options are built. For any other host there is no
    /// default: a remote endpoint needs the key set here (start-up validation fails without it), while a loopback
    /// endpoint (a local model server or a test fake) may go without one.
    /// </value>
    public string? ApiKey { get; set; }

    /// <summary>The model used when a request does not name one.</summary>
    public string? Model { get; set; }

    /// <summary>Allows plain <c>http://</c> to a host that is not loopback (for a gateway inside a trusted network). The API key then crosses the network in clear text.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>
    /// Several endpoints (regions, keys, models) the client routes its calls over, with failover, per-endpoint circuit
    /// breakers and cooldowns. Empty (the default): one endpoint made of <see cref="BaseAddress"/>, <see cref="ApiKey"/>
    /// and <see cref="Model"/>. An endpoint without a key of its own uses <see cref="ApiKey"/>; one without a model
    /// sends the request's (or <see cref="Model"/>).
    /// </summary>
    public IList<LlmEndpoint> Endpoints { get; set; } = new List<LlmEndpoint>();

    /// <summary>
    /// Records the prompt and the answer on the call's span, as the gen_ai conventions' opt-in attributes
    /// <c>gen_ai.input.messages</c> and <c>gen_ai.output.messages</c> (JSON), when an OpenTelemetry listener samples the
    /// span. The text may be personal or confidential: turn it on where your trace store may hold it (development, a
    /// debugging session). The API key and headers are never recorded.
    /// </summary>
    /// <value>The default value is <see langword="false"/>: no prompt or answer text in telemetry.</value>
    public bool RecordMessageContent { get; set; }

    /// <summary>The timeouts, retries and connection settings of the pipeline under the client.</summary>
    public LlmResilienceOptions Resilience { get; set; } = new();

    /// <summary>Describes the options without the API key.</summary>
    /// <returns>The base address, the model, whether a key is set, and the main timeouts.</returns>
    public override string ToString() =>
        $"LlmClientOptions {{ BaseAddress = {(BaseAddress is null ? "(not set)" : LlmResilience.Endpoints.Describe(BaseAddress))}, Endpoints = {(Endpoints is { Count: > 0 } list ? string.Join(", ", list.Select(static e => e?.Name)) : "(one, from BaseAddress)")}, Model = {Model ?? "(none)"}, ApiKey = {(string.IsNullOrEmpty(ApiKey) ? "(not set)" : "(set, redacted)")}, " +
        $"MaxRetryAttempts = {Resilience?.MaxRetryAttempts}, AttemptTimeout = {Resilience?.AttemptTimeout}, TotalTimeout = {Resilience?.TotalTimeout} }}";

    /// <summary>
    /// Fills what the caller left unset: the trailing slash of the base address and, for OpenAI's own API only, the key
    /// from the environment.
    /// </summary>
    internal void ApplyDefaults()
    {
        if (BaseAddress is { IsAbsoluteUri: true } address && !address.AbsolutePath.EndsWith('/'))
        {
            BaseAddress = new Uri(address.GetLeftPart(UriPartial.Path) + "/" + address.Query);
        }

        // OPENAI_API_KEY is an OpenAI credential: reading it for any BaseAddress would send it to whichever gateway,
        // proxy or third-party provider the address names. Elsewhere the key must be given on purpose.
        if (string.IsNullOrEmpty(ApiKey) && IsOpenAi(BaseAddress))
        {
            ApiKey = Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable);
        }
    }

    /// <summary>Whether <paramref name="address"/> is OpenAI's own API, the only host the environment key is used for.</summary>
    internal static bool IsOpenAi(Uri? address) =>
        address is { IsAbsoluteUri: true } && string.Equals(address.Host, OpenAiHost, StringComparison.OrdinalIgnoreCase);
}
