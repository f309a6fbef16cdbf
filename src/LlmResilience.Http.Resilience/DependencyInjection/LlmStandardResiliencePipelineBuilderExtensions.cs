using LlmResilience.Http.Resilience;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>LlmResilience's rules on Microsoft.Extensions.Http.Resilience's standard resilience handler.</summary>
public static class LlmStandardResiliencePipelineBuilderExtensions
{
    /// <summary>
    /// Configures the standard handler for an OpenAI-compatible LLM API:
    /// <c>services.AddHttpClient("llm").AddStandardResilienceHandler().ConfigureForLlm()</c>.
    /// </summary>
    /// <param name="builder">The builder <c>AddStandardResilienceHandler()</c> returned.</param>
    /// <param name="configure">Adjusts what this method adds (the longest server-requested wait); <see langword="null"/> keeps the defaults.</param>
    /// <returns>The same builder; a later <c>Configure(...)</c> overrides any value set here.</returns>
    /// <remarks>
    /// <para>
    /// On <see cref="HttpStandardResilienceOptions"/>: attempt timeout 10 minutes (a non-streamed answer arrives whole, and a
    /// reasoning model can think for minutes) and total 20 minutes; 4 retries with exponential backoff and jitter from
    /// 0.5 s to 20 s; LlmResilience's classification instead of MEHR's transient check (408, 409, 429, 5xx and
    /// Cloudflare's 52x, resets, refused and timed-out connections are retried; <c>insufficient_quota</c>, 4xx, a
    /// certificate problem and <c>x-should-retry: false</c> never; <c>x-should-retry: true</c> retries any status);
    /// LlmResilience's delays (<c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c>, <c>Retry-After</c> in seconds or as a
    /// date, <c>x-ratelimit-reset-requests</c>/<c>-tokens</c> on a 429, no wait after a first reset before headers), and a
    /// wait above <see cref="LlmHttpResilienceOptions.MaxRetryAfter"/> ends the call with that response at once;
    /// a circuit breaker that opens when half of at least 10 calls in 20 minutes fail (429s do not count) and stays open
    /// for 30 seconds.
    /// </para>
    /// <para>
    /// What this route cannot do that <c>AddChatCompletionsClient</c> or <c>AddLlmResilienceHandler</c> do: stream clocks
    /// (first token, idle), reading a non-streamed body inside the attempt (a body that breaks halfway is not retried here),
    /// failover across endpoints, pool recycling after transport failures, and <c>LlmException</c> with its kind.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IHttpStandardResiliencePipelineBuilder ConfigureForLlm(this IHttpStandardResiliencePipelineBuilder builder, Action<LlmHttpResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var name = builder.PipelineName;
        var llm = builder.Services.AddOptions<LlmHttpResilienceOptions>(name);
        if (configure is not null)
        {
            llm.Configure(configure);
        }

        llm.Validate(o => o.MaxRetryAfter >= TimeSpan.Zero, $"LlmHttpResilienceOptions '{name}': MaxRetryAfter must not be negative; use TimeSpan.Zero to never wait for a server's hint.")
            .ValidateOnStart();

        return builder.Configure((options, services) =>
        {
            var outcomes = new LlmHttpOutcomes(
                services.GetRequiredService<IOptionsMonitor<LlmHttpResilienceOptions>>().Get(name),
                services.GetService<TimeProvider>() ?? TimeProvider.System);

            options.TotalRequestTimeout.Timeout = LlmHttpResilienceDefaults.TotalTimeout;
            options.AttemptTimeout.Timeout = LlmHttpResilienceDefaults.AttemptTimeout;

            var retry = options.Retry;
            retry.MaxRetryAttempts = LlmHttpResilienceDefaults.MaxRetryAttempts;
            retry.Delay = LlmHttpResilienceDefaults.BaseDelay;
            retry.MaxDelay = LlmHttpResilienceDefaults.MaxDelay;
            retry.ShouldRetryAfterHeader = false; // replaced by the core's hints, which know more headers than Retry-After
            retry.ShouldHandle = outcomes.ShouldRetryAsync;
            retry.DelayGenerator = outcomes.DelayAsync;

            var breaker = options.CircuitBreaker;
            breaker.MinimumThroughput = LlmHttpResilienceDefaults.BreakerMinimumThroughput;
            breaker.FailureRatio = LlmHttpResilienceDefaults.BreakerFailureRatio;
            breaker.SamplingDuration = LlmHttpResilienceDefaults.BreakerSamplingDuration;
            breaker.BreakDuration = LlmHttpResilienceDefaults.BreakerBreakDuration;
            breaker.ShouldHandle = outcomes.ShouldBreakAsync;
        });
    }
}
