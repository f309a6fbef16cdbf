namespace LlmResilience;

/// <summary>Where and how an <see cref="IChatCompletionsClient"/> calls an OpenAI-compatible API.</summary>
/// <remarks>
/// Validated at start-up (and by <see cref="ChatCompletionsClient.Create(LlmClientOptions, Microsoft.Extensions.Logging.ILoggerFactory?, TimeProvider?)"/>):
/// a remote endpoint needs an API key and <c>https</c>; timeouts must be positive and consistent.
/// <see cref="ToString"/> never shows the API key.
/// </remarks>
public sealed class LlmClientOptions
{
    /// <summary>The environment variable <see cref="ApiKey"/> is read from when it is not set.</summary>
    public const string ApiKeyEnvironmentVariable = "OPENAI_API_KEY";

    /// <summary>The API's base address; <c>chat/completions</c> is appended to it. A missing trailing slash is added.</summary>
    /// <value>The default value is <c>https://api.openai.com/v1/</c>.</value>
    public Uri? BaseAddress { get; set; } = new("https://api.openai.com/v1/");

    /// <summary>The API key sent as <c>Authorization: Bearer</c>. Never logged, never in an exception message or <see cref="ToString"/>.</summary>
    /// <value>The default value is the <c>OPENAI_API_KEY</c> environment variable, read when the options are built.</value>
    public string? ApiKey { get; set; }

    /// <summary>The model used when a request does not name one.</summary>
    public string? Model { get; set; }

    /// <summary>Allows plain <c>http://</c> to a host that is not loopback (for a gateway inside a trusted network). The API key then crosses the network in clear text.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>The timeouts, retries and connection settings of the pipeline under the client.</summary>
    public LlmResilienceOptions Resilience { get; set; } = new();

    /// <summary>Describes the options without the API key.</summary>
    /// <returns>The base address, the model, whether a key is set, and the main timeouts.</returns>
    public override string ToString() =>
        $"LlmClientOptions {{ BaseAddress = {BaseAddress}, Model = {Model ?? "(none)"}, ApiKey = {(string.IsNullOrEmpty(ApiKey) ? "(not set)" : "(set, redacted)")}, " +
        $"MaxRetryAttempts = {Resilience?.MaxRetryAttempts}, AttemptTimeout = {Resilience?.AttemptTimeout}, TotalTimeout = {Resilience?.TotalTimeout} }}";

    /// <summary>Fills what the caller left unset: the key from the environment, the trailing slash of the base address.</summary>
    internal void ApplyDefaults()
    {
        if (string.IsNullOrEmpty(ApiKey))
        {
            ApiKey = Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable);
        }

        if (BaseAddress is { IsAbsoluteUri: true } address && !address.AbsolutePath.EndsWith('/'))
        {
            BaseAddress = new Uri(address.GetLeftPart(UriPartial.Path) + "/" + address.Query);
        }
    }
}
