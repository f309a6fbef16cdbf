namespace LlmResilience;

/// <summary>
/// Where one attempt goes, resolved once per endpoint and shared by every attempt to it: the endpoint's name (for logs,
/// metrics and exceptions), the key of its state, its base address, how it is authenticated, the model it serves, and
/// its place in the rotation. Never printed with its credential.
/// </summary>
internal sealed class EndpointTarget
{
    public EndpointTarget(string name, Uri? baseAddress = null, string? authorization = null, string? model = null)
    {
        Name = name;
        StateKey = name;
        BaseAddress = baseAddress;
        Model = model;
        if (authorization is not null)
        {
            CredentialHeader = AuthorizationHeader;
            CredentialValue = authorization;
        }
    }

    public const string AuthorizationHeader = "Authorization";
    public const string ApiKeyHeader = "api-key";

    /// <summary>Unique per client: in logs, metrics and exceptions.</summary>
    public string Name { get; }

    /// <summary>The key of the endpoint's state: its name and a hash of its base address and key (never the key itself).</summary>
    public string StateKey { get; init; }

    /// <summary>The base the call's path is re-rooted on, or <see langword="null"/> to send the request to the address it names.</summary>
    public Uri? BaseAddress { get; }

    /// <summary>The model this endpoint serves, or <see langword="null"/> to keep the request's.</summary>
    public string? Model { get; }

    /// <summary>The header this endpoint's credential goes in (<c>Authorization</c> or <c>api-key</c>), or <see langword="null"/> to keep the caller's.</summary>
    public string? CredentialHeader { get; init; }

    /// <summary>The raw header value for a fixed key (<c>Bearer sk-...</c> or the bare key); <see langword="null"/> with a provider.</summary>
    public string? CredentialValue { get; init; }

    /// <summary>Produces the key per attempt, when the endpoint has a provider.</summary>
    public Func<CancellationToken, ValueTask<string>>? CredentialProvider { get; init; }

    /// <summary>Whether the credential is sent as <c>Bearer KEY</c> (<see cref="CredentialHeader"/> is <c>Authorization</c>).</summary>
    public bool Bearer => string.Equals(CredentialHeader, AuthorizationHeader, StringComparison.Ordinal);

    /// <summary>The fixed key, to scrub from what the server echoes. Never printed.</summary>
    public string? Secret { get; init; }

    public int Priority { get; init; }

    public int Weight { get; init; } = 1;

    public int? ContextWindowTokens { get; init; }

    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    /// <summary>The endpoint's state (cooldowns, pacing, and with several endpoints the breaker); <see langword="null"/> for an ad-hoc target.</summary>
    public EndpointState? State { get; init; }

    /// <summary>
    /// The address of a request re-rooted on this endpoint (<see cref="AttemptMessage.Rebase"/>), remembered for the
    /// last (request address, origin) pair: the typed client sends every call to one address, so the re-rooted one is
    /// built once rather than per attempt.
    /// </summary>
    public Uri? RebaseCached(Uri? uri, Uri? origin)
    {
        if (BaseAddress is null || uri is null)
        {
            return uri;
        }

        var cached = Volatile.Read(ref _rebased);
        if (cached is not null && ReferenceEquals(cached.Uri, uri) && ReferenceEquals(cached.Origin, origin))
        {
            return cached.Rebased;
        }

        var rebased = AttemptMessage.Rebase(uri, origin, BaseAddress);
        Volatile.Write(ref _rebased, new RebasedAddress(uri, origin, rebased));
        return rebased;
    }

    private RebasedAddress? _rebased;

    private sealed record RebasedAddress(Uri Uri, Uri? Origin, Uri? Rebased);

    /// <summary>Describes the endpoint without its credential.</summary>
    public override string ToString() => $"{Name} ({(BaseAddress is null ? "request's address" : Endpoints.Describe(BaseAddress))}{(Model is null ? string.Empty : $", model {Model}")})";
}
