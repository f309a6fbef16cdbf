namespace LlmResilience;

/// <summary>
/// Where one attempt goes: an endpoint's name (for logs, metrics and state), its base address, the authorization it
/// sends and the model it serves. Immutable; built once per endpoint, shared by every attempt to it.
/// </summary>
/// <param name="Name">Unique per client; the key of the endpoint's state.</param>
/// <param name="BaseAddress">
/// The base the call's path is re-rooted on, or <see langword="null"/> to send the request to the address it names
/// (the handler under another client, or the typed client's own single endpoint).
/// </param>
/// <param name="Authorization">The raw <c>Authorization</c> header value to send, or <see langword="null"/> to keep the caller's.</param>
/// <param name="Model">The model this endpoint serves, or <see langword="null"/> to keep the request's.</param>
internal sealed record EndpointTarget(string Name, Uri? BaseAddress = null, string? Authorization = null, string? Model = null)
{
    /// <summary>Describes the endpoint without its authorization.</summary>
    public override string ToString() => $"{Name} ({(BaseAddress is null ? "request's address" : Endpoints.Describe(BaseAddress))}{(Model is null ? string.Empty : $", model {Model}")})";
}
