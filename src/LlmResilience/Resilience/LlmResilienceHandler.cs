using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace LlmResilience;

/// <summary>
/// The resilience layer as a <see cref="DelegatingHandler"/> on Polly pipelines built once, behaving in the order
/// written in <see cref="LlmResilienceOptions"/>' remarks: total timeout → retry → attempt timeout → (inner handler: the
/// connection layer).
/// </summary>
/// <remarks>
/// Two shortcuts keep the happy path cheap without changing that behaviour (see the constructor): the total deadline
/// rides on the attempt timeout (min of AttemptTimeout and what is left of TotalTimeout) and on the retry's wait budget
/// instead of a strategy of its own; and the retry layer is entered only after a first attempt failed, with that
/// attempt's outcome replayed to it as its first.
/// <para>
/// Inside an attempt, a non-streamed success body is buffered (bounded by MaxResponseBytes), and a streamed one is
/// read up to its first data event, so that every failure before the caller sees a byte is retried. Error bodies are
/// buffered (1 MiB at most) to tell a 429 rate limit from a 429 <c>insufficient_quota</c>. The happy path allocates
/// one small state object per call; contexts come from Polly's pool and the pipelines' delegates are built once.
/// A call that ends with an error response returns that response (as any <see cref="DelegatingHandler"/> would) and
/// leaves a <see cref="CallReport"/> on the request; a call that ends with an exception throws <see cref="LlmException"/>.
/// </para>
/// </remarks>
internal sealed class LlmResilienceHandler : DelegatingHandler
{
    private const long MaxErrorBodyBytes = 1024 * 1024;
    private static readonly ResiliencePropertyKey<CallState> StateKey = new("LlmResilience.CallState");

    private readonly LlmResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<double> _random;
    private readonly ResiliencePipeline<HttpResponseMessage> _attemptPipeline;
    private readonly ResiliencePipeline<HttpResponseMessage>? _retryPipeline;

    public LlmResilienceHandler(LlmResilienceOptions options, TimeProvider time, ILogger logger)
    {
        _options = new LlmResilienceOptions();
        options.CopyTo(_options);
        _time = time;
        _logger = logger;
        _random = _options.Randomizer ?? Random.Shared.NextDouble;

        // The total deadline is not a strategy of its own: each attempt's timeout is the smaller of AttemptTimeout and
        // what is left of TotalTimeout, and the retry never starts a wait that would outlive it (see ShouldRetry). That
        // is the outer total timeout of the documented order, at the cost of one strategy per call instead of two.
        var attemptTimeout = new TimeoutStrategyOptions
        {
            Name = "AttemptTimeout",
            TimeoutGenerator = args => new ValueTask<TimeSpan>(AttemptTimeoutFor(args.Context.Properties.GetValue(StateKey, null!))),
            OnTimeout = static args =>
            {
                var state = args.Context.Properties.GetValue(StateKey, null!);
                state.TotalTimedOut = state.AttemptBoundByTotal;
                return default;
            },
        };
        _attemptPipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = "LlmResilience.Attempt", TimeProvider = time }
            .AddTimeout(attemptTimeout)
            .Build();

        // The retry layer is entered only once the first attempt has failed, with that attempt's outcome replayed to it
        // as its first (see SendAsync): a call that succeeds at once, the common case, skips its cost (about 350 bytes
        // and a few async frames per call, measured), and one that fails is treated exactly as if it had been inside.
        if (_options.MaxRetryAttempts > 0)
        {
            _retryPipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = "LlmResilience.Retry", TimeProvider = time }
                .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
                {
                    Name = "Retry",
                    MaxRetryAttempts = _options.MaxRetryAttempts,
                    // The delay is computed by ShouldRetry (server hints, backoff, budget) and handed over here.
                    BackoffType = DelayBackoffType.Constant,
                    Delay = TimeSpan.Zero,
                    UseJitter = false,
                    ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome, args.Context)),
                    DelayGenerator = static args => new ValueTask<TimeSpan?>(args.Context.Properties.GetValue(StateKey, null!).NextDelay),
                    OnRetry = args =>
                    {
                        OnRetry(args.Outcome, args.Context, args.RetryDelay);
                        return default;
                    },
                })
                .AddTimeout(attemptTimeout)
                .Build();
        }
    }

    private TimeSpan AttemptTimeoutFor(CallState state)
    {
        var left = _options.TotalTimeout - _time.GetElapsedTime(state.StartTimestamp);
        state.AttemptBoundByTotal = left < _options.AttemptTimeout;
        // Never zero or less: Polly reads that as "no timeout".
        return state.AttemptBoundByTotal ? (left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1)) : _options.AttemptTimeout;
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var content = request.Content;
        if (content is not null && _options.MaxRetryAttempts > 0 && content is not (ByteArrayContent or ReadOnlyMemoryContent or IReplayableContent))
        {
            // A stream body would be half-read after a failed attempt: buffer it once so every attempt sends it whole.
            await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        }

        var state = new CallState(this, request, _time.GetTimestamp());
        Outcome<HttpResponseMessage> outcome;
        var pipeline = _attemptPipeline;
        while (true)
        {
            // Written out here rather than in a helper: one async frame less per call.
            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            context.Properties.Set(StateKey, state);
            try
            {
                outcome = await pipeline.ExecuteOutcomeAsync(static (ctx, s) => s.Handler.ReplayOrSendAttemptAsync(ctx, s), context, state)
                    .ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }

            if (_retryPipeline is null || pipeline == _retryPipeline || outcome.Result is { IsSuccessStatusCode: true }
                || cancellationToken.IsCancellationRequested)
            {
                break;
            }

            state.FirstOutcome = outcome;
            pipeline = _retryPipeline;
        }

        if (outcome.Exception is { } exception)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var failure = CreateException(exception, state);
            LlmResilienceTelemetry.RecordFailure(failure.Kind, request.RequestUri);
            Log.GivingUp(_logger, Endpoints.Describe(request.RequestUri), state.Attempts, failure.Message, null);
            throw failure;
        }

        var response = outcome.Result!;
        response.RequestMessage = request;
        if (!response.IsSuccessStatusCode)
        {
            var stop = state.Stop != RetryStopReason.None ? state.Stop
                : state.LastRetryable ? RetryStopReason.AttemptsExhausted : RetryStopReason.NotRetryable;
            request.Options.Set(CallReport.Key, new CallReport(state.Attempts, state.RetryAfter, stop));
            if (state.Attempts > 1 || stop is not RetryStopReason.NotRetryable)
            {
                Log.GivingUp(_logger, Endpoints.Describe(request.RequestUri), state.Attempts,
                    $"HTTP {(int)response.StatusCode} ({stop})", RequestIdOf(response));
            }
        }

        return response;
    }

    private ValueTask<Outcome<HttpResponseMessage>> ReplayOrSendAttemptAsync(ResilienceContext context, CallState state)
    {
        if (state.FirstOutcome is { } first)
        {
            // The retry layer's first "attempt" is the one already made outside it.
            state.FirstOutcome = null;
            return ValueTask.FromResult(first);
        }

        return SendAttemptAsync(context, state);
    }

    // Pooled state machines: an attempt awaits the network, so its box would otherwise be a fresh allocation per call.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<HttpResponseMessage>> SendAttemptAsync(ResilienceContext context, CallState state)
    {
        state.Attempts++;
        state.AttemptStartTimestamp = _time.GetTimestamp();
        state.FailedBeforeHeaders = false;
        state.InsufficientQuota = false;
        var request = state.Attempts == 1 ? state.Request : Clone(state.Request);
        HttpResponseMessage? response = null;
        try
        {
            response = await base.SendAsync(request, context.CancellationToken).ConfigureAwait(false);
            await PrepareBodyAsync(response, state, context.CancellationToken).ConfigureAwait(false);
            return Outcome.FromResult(response);
        }
        catch (Exception exception)
        {
            state.FailedBeforeHeaders = response is null;
            response?.Dispose();
            return Outcome.FromException<HttpResponseMessage>(exception);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PrepareBodyAsync(HttpResponseMessage response, CallState state, CancellationToken cancellationToken)
    {
        var content = response.Content;
        if (!response.IsSuccessStatusCode)
        {
            try
            {
                await content.LoadIntoBufferAsync(MaxErrorBodyBytes, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    var body = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                    state.InsufficientQuota = OpenAiErrorBody.TryParse(body, out var error)
                        && (error.Code is "insufficient_quota" || error.Type is "insufficient_quota");
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException)
            {
                // The status decides; an unreadable or oversized error body must not turn a 429 into a transport failure.
                response.Content = new ByteArrayContent([]);
                content.Dispose();
            }

            return;
        }

        if (MediaTypes.IsEventStream(content))
        {
            var deadline = state.StartTimestamp + (long)(_options.TotalTimeout.TotalSeconds * _time.TimestampFrequency);
            await FirstEventReader.ReadFirstEventAsync(response, _options, _time, state.AttemptStartTimestamp, deadline,
                state.Request.RequestUri, cancellationToken).ConfigureAwait(false);
            return;
        }

        var declared = BufferedBodyContent.DeclaredLength(content);
        if (declared > _options.MaxResponseBytes)
        {
            throw TooLarge(state.Request.RequestUri, declared);
        }

        if (!await BufferedBodyContent.BufferAsync(response, declared, _options.MaxResponseBytes, cancellationToken).ConfigureAwait(false))
        {
            throw TooLarge(state.Request.RequestUri, null);
        }
    }

    private LlmException TooLarge(Uri? endpoint, long? length) => new(LlmFailureKind.InvalidResponse,
        $"The response from {Endpoints.Describe(endpoint)} is larger than MaxResponseBytes ({_options.MaxResponseBytes} bytes{(length is null ? string.Empty : $"; Content-Length {length}")}). Raise LlmResilienceOptions.MaxResponseBytes or ask for less output.",
        statusCode: HttpStatusCode.OK);

    private bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        var state = context.Properties.GetValue(StateKey, null!);
        if (outcome.Result is { IsSuccessStatusCode: true } || context.CancellationToken.IsCancellationRequested || state.TotalTimedOut)
        {
            return false;
        }

        TimeSpan? hint = null;
        bool retryable;
        LlmFailureKind kind;
        if (outcome.Exception is { } exception)
        {
            (kind, retryable) = FailureClassifier.Classify(exception);
        }
        else
        {
            var response = outcome.Result!;
            var status = (int)response.StatusCode;
            kind = status == 429 ? LlmFailureKind.RateLimited : LlmFailureKind.ServerError;
            var serverSays = ServerRetryHints.GetShouldRetry(response.Headers);
            retryable = serverSays ?? FailureClassifier.IsRetryableStatus(status);
            if (serverSays == false)
            {
                state.Stop = RetryStopReason.ServerSaidDoNotRetry;
            }

            if (state.InsufficientQuota)
            {
                // Retrying cannot create credit.
                kind = LlmFailureKind.QuotaExceeded;
                retryable = false;
            }

            hint = ServerRetryHints.GetRetryAfter(response.Headers, status, _time.GetUtcNow());
            state.RetryAfter = hint;
        }

        state.LastRetryable = retryable;
        if (!retryable)
        {
            return false;
        }

        TimeSpan delay;
        if (hint is { } wait)
        {
            if (wait > _options.MaxRetryAfter)
            {
                state.Stop = RetryStopReason.RetryAfterTooLong;
                return false;
            }

            delay = wait;
        }
        else if (kind == LlmFailureKind.ResetBeforeHeaders && state.FailedBeforeHeaders && !state.ImmediateRetryUsed)
        {
            // The request never reached the model (typically a pooled connection the far side had closed): the
            // dead connection is gone from the pool, so try again at once.
            state.ImmediateRetryUsed = true;
            delay = TimeSpan.Zero;
        }
        else
        {
            delay = Backoff.Compute(state.BackoffCount++, _options, _random);
        }

        if (_time.GetElapsedTime(state.StartTimestamp) + delay >= _options.TotalTimeout)
        {
            state.Stop = RetryStopReason.WouldOutliveTotalTimeout;
            return false;
        }

        state.NextDelay = delay;
        return true;
    }

    private void OnRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, TimeSpan delay)
    {
        LlmResilienceTelemetry.RecordRetry(
            outcome.Exception is { } failure ? FailureClassifier.Classify(failure).Kind
                : outcome.Result!.StatusCode == HttpStatusCode.TooManyRequests ? LlmFailureKind.RateLimited : LlmFailureKind.ServerError,
            outcome.Result is { } result ? (int)result.StatusCode : null,
            context.Properties.GetValue(StateKey, null!).Request.RequestUri);
        if (!_logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        var state = context.Properties.GetValue(StateKey, null!);
        var reason = outcome.Exception is { } exception ? FailureClassifier.Describe(exception) : $"HTTP {(int)outcome.Result!.StatusCode}";
        Log.Retrying(_logger, Endpoints.Describe(state.Request.RequestUri), state.Attempts, reason, (long)delay.TotalMilliseconds,
            outcome.Result is { } response ? RequestIdOf(response) : null);
    }

    private LlmException CreateException(Exception exception, CallState state)
    {
        var endpoint = Endpoints.Describe(state.Request.RequestUri);
        var attempts = state.Attempts;
        var (kind, _) = FailureClassifier.Classify(exception);
        var reason = FailureClassifier.Describe(exception);
        var statusCode = (exception as HttpRequestException)?.StatusCode;
        string message;
        if (state.TotalTimedOut)
        {
            kind = LlmFailureKind.Timeout;
            message = $"The call to {endpoint} did not complete within TotalTimeout ({_options.TotalTimeout}) after {attempts} attempt(s). Raise LlmResilienceOptions.TotalTimeout if the model needs longer, or check the endpoint's health.";
        }
        else if (exception is LlmException llm)
        {
            message = attempts > 1 ? $"{llm.Message} ({attempts} attempts.)" : llm.Message;
        }
        else
        {
            message = kind switch
            {
                LlmFailureKind.ConnectFailure => $"Could not connect to {endpoint} ({reason}) on {attempts} attempt(s). Check BaseAddress, DNS, firewalls and the proxy settings (HTTPS_PROXY, NO_PROXY); on a slow network raise ConnectTimeout ({_options.ConnectTimeout}).",
                LlmFailureKind.ResetBeforeHeaders => $"The connection to {endpoint} was reset or closed before a response arrived ({reason}) on {attempts} attempt(s). A proxy or load balancer on the way is dropping the request (Envoy calls it 'upstream connect error or disconnect/reset before headers'): check that its idle and request timeouts exceed the model's response time.",
                LlmFailureKind.Timeout => $"{attempts} attempt(s) to {endpoint} got no response within AttemptTimeout ({_options.AttemptTimeout}). Raise LlmResilienceOptions.AttemptTimeout for long generations, or stream the response.",
                _ => $"The call to {endpoint} failed ({reason}) on {attempts} attempt(s).",
            };
        }

        if (state.Stop == RetryStopReason.WouldOutliveTotalTimeout)
        {
            message += $" No further attempt: its wait would have outlived TotalTimeout ({_options.TotalTimeout}).";
        }

        return new LlmException(kind, message, exception, statusCode) { Attempts = attempts };
    }

    private static string? RequestIdOf(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("x-request-id", out var values) ? values.ToString() : null;

    private static HttpRequestMessage Clone(HttpRequestMessage original)
    {
        // A fresh message per retry: handlers below may have changed the one already sent. The content is shared; it
        // is replayable (see SendAsync) and is never disposed by sending.
        var clone = new HttpRequestMessage(original.Method, original.RequestUri)
        {
            Version = original.Version,
            VersionPolicy = original.VersionPolicy,
            Content = original.Content,
        };
        foreach (var header in original.Headers.NonValidated)
        {
            clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var option in original.Options)
        {
            ((IDictionary<string, object?>)clone.Options)[option.Key] = option.Value;
        }

        return clone;
    }

    private sealed class CallState(LlmResilienceHandler handler, HttpRequestMessage request, long startTimestamp)
    {
        public LlmResilienceHandler Handler { get; } = handler;
        public HttpRequestMessage Request { get; } = request;
        public long StartTimestamp { get; } = startTimestamp;
        public long AttemptStartTimestamp { get; set; }
        public int Attempts { get; set; }
        public int BackoffCount { get; set; }
        public bool FailedBeforeHeaders { get; set; }
        public bool ImmediateRetryUsed { get; set; }
        public bool LastRetryable { get; set; }
        public bool TotalTimedOut { get; set; }
        public bool AttemptBoundByTotal { get; set; }
        public bool InsufficientQuota { get; set; }
        public TimeSpan NextDelay { get; set; }
        public TimeSpan? RetryAfter { get; set; }
        public RetryStopReason Stop { get; set; }
        public Outcome<HttpResponseMessage>? FirstOutcome { get; set; }
    }
}
