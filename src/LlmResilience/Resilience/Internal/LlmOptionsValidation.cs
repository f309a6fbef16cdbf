using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace LlmResilience;

/// <summary>
/// The rules of <see cref="LlmClientOptions"/> and <see cref="LlmResilienceOptions"/>: each failure names the
/// property, the value found and how to fix it.
/// </summary>
internal static class LlmOptionsValidation
{
    // Polly's timeout strategy accepts 10 ms to 1 day; the same bounds apply to every clock of ours.
    private static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    public static void Validate(LlmResilienceOptions? options, string prefix, List<string> failures)
    {
        if (options is null)
        {
            failures.Add($"{prefix}Resilience is null: leave it unset to get the defaults, or assign new LlmResilienceOptions().");
            return;
        }

        if (options.MaxRetryAttempts is < 0 or > 100)
        {
            failures.Add($"{prefix}MaxRetryAttempts is {options.MaxRetryAttempts}: use 0 (no retries) to 100.");
        }

        if (options.BaseDelay < TimeSpan.Zero || options.BaseDelay > MaxTimeout)
        {
            failures.Add($"{prefix}BaseDelay is {Show(options.BaseDelay)}: use a delay from 0 to 1 day (the default is 0.5 s).");
        }

        if (options.MaxDelay < options.BaseDelay)
        {
            failures.Add($"{prefix}MaxDelay ({Show(options.MaxDelay)}) is shorter than BaseDelay ({Show(options.BaseDelay)}): raise MaxDelay or lower BaseDelay.");
        }

        if (options.MaxRetryAfter < TimeSpan.Zero)
        {
            failures.Add($"{prefix}MaxRetryAfter is {Show(options.MaxRetryAfter)}: use zero or more (0 fails at once whenever a server asks for a wait).");
        }

        CheckTimeout(options.ConnectTimeout, nameof(options.ConnectTimeout), prefix, failures);
        CheckTimeout(options.AttemptTimeout, nameof(options.AttemptTimeout), prefix, failures);
        CheckTimeout(options.FirstTokenTimeout, nameof(options.FirstTokenTimeout), prefix, failures);
        CheckTimeout(options.StreamIdleTimeout, nameof(options.StreamIdleTimeout), prefix, failures);
        CheckTimeout(options.TotalTimeout, nameof(options.TotalTimeout), prefix, failures);
        CheckTimeout(options.PooledConnectionLifetime, nameof(options.PooledConnectionLifetime), prefix, failures);
        CheckTimeout(options.PooledConnectionIdleTimeout, nameof(options.PooledConnectionIdleTimeout), prefix, failures);

        if (options.AttemptTimeout > options.TotalTimeout)
        {
            failures.Add($"{prefix}AttemptTimeout ({Show(options.AttemptTimeout)}) is longer than TotalTimeout ({Show(options.TotalTimeout)}): one attempt could never time out on its own. Lower AttemptTimeout or raise TotalTimeout.");
        }

        if (options.StreamIdleTimeout > options.FirstTokenTimeout)
        {
            failures.Add($"{prefix}StreamIdleTimeout ({Show(options.StreamIdleTimeout)}) is longer than FirstTokenTimeout ({Show(options.FirstTokenTimeout)}): a gap between tokens would be allowed to outlast the wait for the first one. Lower StreamIdleTimeout or raise FirstTokenTimeout.");
        }

        if (options.PoolRecycleAfterTransportFailures < 0)
        {
            failures.Add($"{prefix}PoolRecycleAfterTransportFailures is {options.PoolRecycleAfterTransportFailures}: use 0 (never recycle) or more (the default is 3).");
        }

        CheckTimeout(options.QuotaExceededCooldown, nameof(options.QuotaExceededCooldown), prefix, failures);
        ValidateBreaker(options.CircuitBreaker, prefix, failures);
        ValidateRetryBudget(options.RetryBudget, prefix, failures);
        if (options.HedgingDelay is { } hedging)
        {
            if (hedging < MinTimeout || hedging >= options.AttemptTimeout)
            {
                failures.Add($"{prefix}HedgingDelay is {Show(hedging)}: use 10 ms or more and less than AttemptTimeout ({Show(options.AttemptTimeout)}), such as the p90 of your time to first token; or null for no hedging.");
            }

            if (options.MaxHedgedAttempts is < 1 or > 3)
            {
                failures.Add($"{prefix}MaxHedgedAttempts is {options.MaxHedgedAttempts}: use 1 to 3 (the default is 1).");
            }
        }
        if (options.Endpoints is null)
        {
            failures.Add($"{prefix}Endpoints is null: leave it empty for no routing, or list the endpoints.");
        }
        else
        {
            // Under AddLlmResilienceHandler the caller's own header carries the key of an endpoint without one.
            ValidateEndpoints(options.Endpoints, prefix, allowInsecureHttp: false, keyOf: null, failures);
        }

        if (options.MaxResponseBytes is <= 0 or > int.MaxValue)
        {
            failures.Add($"{prefix}MaxResponseBytes is {options.MaxResponseBytes.ToString(CultureInfo.InvariantCulture)}: use 1 to {int.MaxValue.ToString(CultureInfo.InvariantCulture)} bytes (the default is 32 MiB).");
        }
    }

    /// <summary>Checks client options; each failure starts with <see cref="ClientPrefix"/> of <paramref name="name"/>.</summary>
    /// <param name="options">The options, after <see cref="LlmClientOptions.ApplyDefaults"/>.</param>
    /// <param name="failures">Receives one message per problem.</param>
    /// <param name="name">The options name of a DI-registered client (<c>""</c> for the default one); <see langword="null"/>
    /// for <see cref="ChatCompletionsClient.Create(LlmClientOptions, Microsoft.Extensions.Logging.ILoggerFactory?, TimeProvider?)"/>, which has no name.</param>
    public static void Validate(LlmClientOptions options, List<string> failures, string? name = null)
    {
        var who = ClientPrefix(name);
        var address = options.BaseAddress;
        if (address is null)
        {
            failures.Add($"{who}BaseAddress is not set: set it to the API's base, such as https://api.openai.com/v1/.");
        }
        else if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttps && address.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{who}BaseAddress '{Endpoints.Describe(address)}' is not an absolute http(s) address: use one such as https://api.openai.com/v1/.");
        }
        else
        {
            var loopback = IsLoopback(address);
            if (address.Scheme == Uri.UriSchemeHttp && !loopback && !options.AllowInsecureHttp)
            {
                failures.Add($"{who}BaseAddress '{Endpoints.Describe(address)}' uses plain http to a remote host, which would send the API key in clear text: use https, or set AllowInsecureHttp = true for a gateway inside a trusted network.");
            }

            // The client appends chat/completions itself; an address copied from a curl example would double it.
            if (address.AbsolutePath.TrimEnd('/').EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{who}BaseAddress '{Endpoints.Describe(address)}' already ends in chat/completions, which the client appends itself (calls would go to .../chat/completions/chat/completions): use the API base, such as https://api.openai.com/v1/.");
            }

            // With endpoints, BaseAddress is never called: each endpoint's key is checked instead.
            if (string.IsNullOrWhiteSpace(options.ApiKey) && !loopback && options.Endpoints is not { Count: > 0 })
            {
                failures.Add(LlmClientOptions.IsOpenAi(address)
                    ? $"{who}ApiKey is not set for {address.Host}: set LlmClientOptions.ApiKey or the {LlmClientOptions.ApiKeyEnvironmentVariable} environment variable."
                    : $"{who}ApiKey is not set for the remote endpoint {address.Host}: set LlmClientOptions.ApiKey. The {LlmClientOptions.ApiKeyEnvironmentVariable} environment variable is only used for {LlmClientOptions.OpenAiHost}, so that an OpenAI key is never sent to another host by default.");
            }
        }

        if (options.Model is { Length: 0 } || (options.Model is not null && string.IsNullOrWhiteSpace(options.Model)))
        {
            failures.Add($"{who}Model is empty: name a model such as gpt-4o-mini, or leave it null and name the model in each request.");
        }

        Validate(options.Resilience, who + "Resilience.", failures);
        if (options.Resilience?.Endpoints is { Count: > 0 })
        {
            failures.Add($"{who}Resilience.Endpoints lists endpoints: under the typed client, list them in LlmClientOptions.Endpoints (Resilience.Endpoints is for AddLlmResilienceHandler under another client).");
        }

        if (options.Endpoints is null)
        {
            failures.Add($"{who}Endpoints is null: leave it empty for one endpoint from BaseAddress, or list the endpoints.");
        }
        else
        {
            ValidateEndpoints(options.Endpoints, who, options.AllowInsecureHttp, e => EndpointTargets.EffectiveKey(e, options), failures);
        }
    }

    private static void ValidateRetryBudget(LlmRetryBudgetOptions? budget, string prefix, List<string> failures)
    {
        if (budget is null)
        {
            failures.Add($"{prefix}RetryBudget is null: leave it unset to get the defaults, or set RetryBudget.Enabled = false to turn it off.");
            return;
        }

        if (!(budget.RetryRatio >= 0 && budget.RetryRatio <= 100))
        {
            failures.Add($"{prefix}RetryBudget.RetryRatio is {budget.RetryRatio.ToString(CultureInfo.InvariantCulture)}: use 0 to 100 retries per call (the default is 0.2).");
        }

        if (budget.MinRetries < 0)
        {
            failures.Add($"{prefix}RetryBudget.MinRetries is {budget.MinRetries}: use 0 or more (the default is 10).");
        }

        if (budget.Window < TimeSpan.FromSeconds(1) || budget.Window > TimeSpan.FromHours(1))
        {
            failures.Add($"{prefix}RetryBudget.Window is {Show(budget.Window)}: use 1 second to 1 hour (the default is 10 s).");
        }
    }

    private static void ValidateBreaker(LlmCircuitBreakerOptions? breaker, string prefix, List<string> failures)
    {
        if (breaker is null)
        {
            failures.Add($"{prefix}CircuitBreaker is null: leave it unset to get the defaults, or assign new LlmCircuitBreakerOptions().");
            return;
        }

        if (!(breaker.FailureRatio > 0 && breaker.FailureRatio <= 1))
        {
            failures.Add($"{prefix}CircuitBreaker.FailureRatio is {breaker.FailureRatio.ToString(CultureInfo.InvariantCulture)}: use a share above 0 and at most 1 (the default is 0.5).");
        }

        if (breaker.MinimumThroughput < 2)
        {
            failures.Add($"{prefix}CircuitBreaker.MinimumThroughput is {breaker.MinimumThroughput}: use 2 or more (the default is 3).");
        }

        if (breaker.SamplingDuration < TimeSpan.FromMilliseconds(500) || breaker.SamplingDuration > MaxTimeout)
        {
            failures.Add($"{prefix}CircuitBreaker.SamplingDuration is {Show(breaker.SamplingDuration)}: use 0.5 s to 1 day (the default is 30 s).");
        }

        if (breaker.BreakDuration < TimeSpan.FromMilliseconds(500) || breaker.BreakDuration > MaxTimeout)
        {
            failures.Add($"{prefix}CircuitBreaker.BreakDuration is {Show(breaker.BreakDuration)}: use 0.5 s to 1 day (the default is 15 s).");
        }
    }

    /// <summary>Names, addresses, weights, tiers, limits and keys of the endpoints; each failure names the endpoint and the fix.</summary>
    private static void ValidateEndpoints(IList<LlmEndpoint> endpoints, string prefix, bool allowInsecureHttp, Func<LlmEndpoint, string?>? keyOf, List<string> failures)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < endpoints.Count; i++)
        {
            var endpoint = endpoints[i];
            if (endpoint is null)
            {
                failures.Add($"{prefix}Endpoints[{i}] is null: remove it or set its Name and BaseAddress.");
                continue;
            }

            var who = string.IsNullOrWhiteSpace(endpoint.Name) ? $"{prefix}Endpoints[{i}]" : $"{prefix}Endpoints[{i}] '{endpoint.Name}'";
            if (string.IsNullOrWhiteSpace(endpoint.Name))
            {
                failures.Add($"{who} has no Name: give every endpoint a unique name (it appears in logs, metrics and exceptions).");
            }
            else if (!names.Add(endpoint.Name))
            {
                failures.Add($"{who}: the name is used by another endpoint too; names must be unique within a client.");
            }

            var address = endpoint.BaseAddress;
            if (address is null || !address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttps && address.Scheme != Uri.UriSchemeHttp))
            {
                failures.Add($"{who} BaseAddress {(address is null ? "is not set" : $"'{Endpoints.Describe(address)}' is not an absolute http(s) address")}: set it to the API's base, such as https://api.openai.com/v1/ or https://NAME.openai.azure.com/openai/v1/.");
            }
            else
            {
                var loopback = IsLoopback(address);
                if (address.Scheme == Uri.UriSchemeHttp && !loopback && !allowInsecureHttp)
                {
                    failures.Add($"{who} BaseAddress '{Endpoints.Describe(address)}' uses plain http to a remote host, which would send the key in clear text: use https{(keyOf is null ? string.Empty : ", or set AllowInsecureHttp = true for a gateway inside a trusted network")}.");
                }

                if (address.AbsolutePath.TrimEnd('/').EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"{who} BaseAddress '{Endpoints.Describe(address)}' already ends in chat/completions, which is appended to it: use the API base, such as https://api.openai.com/v1/.");
                }

                if (keyOf is not null && !loopback && endpoint.ApiKeyProvider is null && string.IsNullOrWhiteSpace(keyOf(endpoint)))
                {
                    failures.Add($"{who} has no key for the remote host {address.Host}: set its ApiKey (or ApiKeyProvider), or LlmClientOptions.ApiKey for every endpoint without one.");
                }
            }

            if (endpoint.Weight <= 0)
            {
                failures.Add($"{who} Weight is {endpoint.Weight}: use 1 or more (its share of traffic within its priority tier).");
            }

            if (endpoint.Priority < 0)
            {
                failures.Add($"{who} Priority is {endpoint.Priority}: use 0 (tried first) or more.");
            }

            if (endpoint.Model is not null && string.IsNullOrWhiteSpace(endpoint.Model))
            {
                failures.Add($"{who} Model is empty: name the model this endpoint serves, or leave it null to send the request's.");
            }

            CheckPositive(endpoint.ContextWindowTokens, nameof(endpoint.ContextWindowTokens), who, failures);
            CheckPositive(endpoint.RequestsPerMinute, nameof(endpoint.RequestsPerMinute), who, failures);
            CheckPositive(endpoint.TokensPerMinute, nameof(endpoint.TokensPerMinute), who, failures);
        }
    }

    private static void CheckPositive(int? value, string name, string who, List<string> failures)
    {
        if (value is <= 0)
        {
            failures.Add($"{who} {name} is {value}: use a positive number, or leave it unset.");
        }
    }

    /// <summary>
    /// Names the client whose options failed, since an app may register several: <c>LlmClientOptions 'fast': </c>,
    /// <c>LlmClientOptions (default client): </c>, or nothing for a client built by <c>ChatCompletionsClient.Create</c>.
    /// </summary>
    public static string ClientPrefix(string? name) => name switch
    {
        null => string.Empty,
        { Length: 0 } => "LlmClientOptions (default client): ",
        _ => $"LlmClientOptions '{name}': ",
    };

    /// <summary>Names the <see cref="HttpClient"/> whose <c>AddLlmResilienceHandler</c> options failed.</summary>
    public static string HandlerPrefix(string? name) =>
        string.IsNullOrEmpty(name) ? "LlmResilienceOptions (default HttpClient): " : $"LlmResilienceOptions of HttpClient '{name}': ";

    public static ValidateOptionsResult ToResult(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

    public static bool IsLoopback(Uri address) =>
        address.IsLoopback || (IPAddress.TryParse(address.DnsSafeHost, out var ip) && IPAddress.IsLoopback(ip));

    private static void CheckTimeout(TimeSpan value, string name, string prefix, List<string> failures)
    {
        if (value < MinTimeout || value > MaxTimeout)
        {
            failures.Add($"{prefix}{name} is {Show(value)}: use a positive timeout from 10 ms to 1 day.");
        }
    }

    private static string Show(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}

/// <summary>Validates <see cref="LlmClientOptions"/> at start-up (registered with ValidateOnStart).</summary>
internal sealed class LlmClientOptionsValidator : IValidateOptions<LlmClientOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmClientOptions options)
    {
        var failures = new List<string>();
        LlmOptionsValidation.Validate(options, failures, name ?? Options.DefaultName);
        return LlmOptionsValidation.ToResult(failures);
    }
}

/// <summary>Validates <see cref="LlmResilienceOptions"/> given to <c>AddLlmResilienceHandler</c> at start-up.</summary>
internal sealed class LlmResilienceOptionsValidator : IValidateOptions<LlmResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmResilienceOptions options)
    {
        var failures = new List<string>();
        // The options are named after the HttpClient (IHttpClientBuilder.Name), which is what the app knows it by.
        LlmOptionsValidation.Validate(options, LlmOptionsValidation.HandlerPrefix(name), failures);
        return LlmOptionsValidation.ToResult(failures);
    }
}
