namespace LlmResilience;

/// <summary>
/// One place a call can be sent: a base address, the key it is called with and the model it serves. Several keys on one
/// base address balance a quota; several base addresses are regions; another model is a fallback. Listed in
/// <see cref="LlmClientOptions.Endpoints"/> (the typed client) or <see cref="LlmResilienceOptions.Endpoints"/> (the
/// handler under another client), and bindable from configuration (<c>Llm:Endpoints:0:Name</c>, ...).
/// </summary>
/// <remarks>
/// Each attempt of a call picks an endpoint: the lowest <see cref="Priority"/> tier that has one available, then at
/// random by <see cref="Weight"/> within it. An endpoint is skipped while its circuit breaker is open, while it cools
/// down after a 429 or 503 that asked for a wait, and while its key is sidelined (<c>insufficient_quota</c>, 401, 403).
/// The key is sent only to this endpoint's host, and never appears in a log line, an exception or <see cref="ToString"/>.
/// </remarks>
public sealed class LlmEndpoint
{
    /// <summary>The endpoint's name: unique within one client; it appears in logs, metrics and exceptions.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The API's base address, such as <c>https://api.openai.com/v1/</c> or <c>https://NAME.openai.azure.com/openai/v1/</c>; a query it carries (Azure's <c>api-version</c>) is kept on every request.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The key sent to this endpoint; <see langword="null"/> uses the client's (<see cref="LlmClientOptions.ApiKey"/>, or the caller's own header under another client).</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Produces the credential per attempt instead of a fixed <see cref="ApiKey"/>: an Entra ID token, or a key that
    /// rotates. Called before every attempt to this endpoint (cache inside it if fetching is costly); its result is
    /// never logged. Not bound from configuration: set it in code.
    /// </summary>
    public Func<CancellationToken, ValueTask<string>>? ApiKeyProvider { get; set; }

    /// <summary>How the key is sent.</summary>
    /// <value>
    /// The default value is <see cref="LlmApiKeyStyle.Auto"/>: <c>api-key: KEY</c> for a fixed key to an Azure host
    /// (<c>*.openai.azure.com</c>, <c>*.cognitiveservices.azure.com</c>, <c>*.services.ai.azure.com</c>), otherwise
    /// (and for an <see cref="ApiKeyProvider"/>, typically an Entra ID token) <c>Authorization: Bearer KEY</c>.
    /// </value>
    public LlmApiKeyStyle ApiKeyStyle { get; set; }

    /// <summary>The model this endpoint serves: it replaces the request's model on this endpoint. <see langword="null"/> keeps the request's.</summary>
    public string? Model { get; set; }

    /// <summary>The endpoint's tier: 0 is tried first; a higher tier only when every endpoint of the lower ones is unavailable or has failed in this call.</summary>
    /// <value>The default value is 0.</value>
    public int Priority { get; set; }

    /// <summary>The endpoint's share of traffic within its tier (3 and 1: three calls in four go to the first).</summary>
    /// <value>The default value is 1.</value>
    public int Weight { get; set; } = 1;

    /// <summary>
    /// The model's context window in tokens. A call that fails with <see cref="LlmFailureKind.ContextLengthExceeded"/>
    /// moves only to an endpoint with a larger window; with none, it fails.
    /// </summary>
    public int? ContextWindowTokens { get; set; }

    /// <summary>The endpoint's requests-per-minute limit, for pacing.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>The endpoint's tokens-per-minute limit, for pacing.</summary>
    public int? TokensPerMinute { get; set; }

    internal LlmEndpoint Copy() => (LlmEndpoint)MemberwiseClone();

    /// <summary>Describes the endpoint without its key.</summary>
    /// <returns>The name, the base address (without user info or query), the model, the tier and weight, and whether a key is set.</returns>
    public override string ToString() =>
        $"LlmEndpoint {{ Name = {Name}, BaseAddress = {(BaseAddress is null ? "(not set)" : Endpoints.Describe(BaseAddress))}, Model = {Model ?? "(request's)"}, Priority = {Priority}, Weight = {Weight}, " +
        $"ApiKey = {(ApiKeyProvider is not null ? "(from ApiKeyProvider)" : string.IsNullOrEmpty(ApiKey) ? "(client's)" : "(set, redacted)")} }}";
}

/// <summary>How an endpoint's key travels.</summary>
public enum LlmApiKeyStyle
{
    /// <summary><see cref="ApiKeyHeader"/> for a fixed key to an Azure host, <see cref="Bearer"/> otherwise.</summary>
    Auto = 0,

    /// <summary><c>Authorization: Bearer KEY</c> (OpenAI, most compatible servers, Entra ID tokens).</summary>
    Bearer,

    /// <summary><c>api-key: KEY</c> (Azure OpenAI keys).</summary>
    ApiKeyHeader,
}
