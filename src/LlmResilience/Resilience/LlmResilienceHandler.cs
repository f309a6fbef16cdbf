using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace LlmResilience;

/// <summary>
/// The resilience layer as a <see cref="DelegatingHandler"/> running one Polly pipeline, built once, in the order
/// written in <see cref="LlmResilienceOptions"/>' remarks: total deadline (the call's own token) → retry → [per attempt:
/// endpoint choice → attempt timeout → send] → (inner handler: the connection layer).
/// </summary>
/// <remarks>
/// <para>
/// Every call has one <see cref="LlmCall"/>: the typed client creates it and hands it over on the request (a <see cref="CallRequestMessage"/>);
/// under any other client this handler creates it. The strategies and the attempts write into it (one
/// <see cref="LlmAttempt"/> per attempt, never shared), and every reporter reads it: the retry decision, the endpoint
/// state, the log lines, the metrics, and the final <see cref="LlmException"/> (built by <see cref="LlmFailures"/>).
/// </para>
/// <para>
/// Each attempt asks the call's <see cref="IEndpointSelector"/> where to go and sends a fresh message built from the
/// caller's request (<see cref="AttemptMessage"/>); the caller's own message is never sent. Inside an attempt, a
/// non-streamed success body is buffered (bounded by MaxResponseBytes), and a streamed one is read up to its first
/// data event, so that every failure before the caller sees a byte is retried. Error bodies are buffered (1 MiB at
/// most) and classified once.
/// </para>
/// <para>
/// A call that ends with an error response returns that response (as any <see cref="DelegatingHandler"/> would, so
/// that SDKs above see the server's answer); a call that ends with an exception throws <see cref="LlmException"/>.
/// The synchronous <see cref="Send"/> runs the same asynchronous pipeline and blocks its thread until the response
/// headers (and a non-streamed body) are in: a synchronous caller holds one thread per call.
/// </para>
/// </remarks>
internal sealed class LlmResilienceHandler : DelegatingHandler
{
    private const long MaxErrorBodyBytes = 1024 * 1024;
    private static readonly ResiliencePropertyKey<LlmCall> CallKey = PipelineKeys.Call;
    private static readonly ResiliencePropertyKey<LlmAttempt> AttemptKey = PipelineKeys.Attempt;

    private readonly LlmResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LlmMetrics _metrics;
    private readonly string? _clientName;
    private readonly Func<double> _random;
    private readonly RequestAddressSelector _requestSelector;
    private readonly IEndpointSelector? _endpoints;
    private readonly RetryBudget? _retryBudget;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private int _connectionsLeasable; // 0: not yet known; 1: yes; -1: no

    public LlmResilienceHandler(LlmResilienceOptions options, TimeProvider time, ILogger logger, LlmMetrics? metrics = null,
        IEndpointStateStore? endpointStates = null, string? clientName = null)
    {
        _options = new LlmResilienceOptions();
        options.CopyTo(_options);
        _time = time;
        _logger = logger;
        _metrics = metrics ?? new LlmMetrics(null);
        _clientName = clientName;
        _random = _options.Randomizer ?? Random.Shared.NextDouble;
        endpointStates ??= new InMemoryEndpointStateStore();
        _requestSelector = new RequestAddressSelector(endpointStates);
        _endpoints = EndpointTargets.ForHandler(_options, endpointStates, time, logger, _metrics);
        _retryBudget = _options.RetryBudget.Enabled && _options.MaxRetryAttempts > 0 ? new RetryBudget(_options.RetryBudget, time) : null;

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = "LlmResilience", TimeProvider = time };

        // 1. Total deadline: the call's own token (LlmCall.StartDeadline), outside the pipeline, so that the same deadline
        //    also bounds a streamed body after the pipeline has returned. Its clock starts (ArmDeadline) before anything
        //    that could outlast it: an attempt whose timeout does not end first, a retry's delay (OnRetry), any other wait.
        // 2. Retry: the delay is decided with the verdict (server hints, backoff, the deadline) and kept on the attempt.
        if (_options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = "Retry",
                MaxRetryAttempts = _options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Constant,
                Delay = TimeSpan.Zero,
                UseJitter = false,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Context, args.AttemptNumber, args.Outcome)),
                DelayGenerator = static args => new ValueTask<TimeSpan?>(args.Context.Properties.GetValue(AttemptKey, null!).Decision!.Value.Delay),
                OnRetry = args =>
                {
                    OnRetry(args.Context, args.RetryDelay);
                    return default;
                },
            });
        }

        _pipeline = builder.Build();

        // 3. Per attempt (SendAttemptAsync, inside the retry): the endpoint's choice, then (several endpoints) its circuit
        //    breaker, then the attempt timeout (a TimeoutTokenSource, in SendOnceAsync) around the send.
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = (request as CallRequestMessage)?.Call;
        call ??= new LlmCall(_clientName, _time, _options.TotalTimeout, ownedByPipeline: true);
        call.Template = request;
        call.CancellationToken = cancellationToken;
        if (call.Selector is null && _endpoints is not null)
        {
            // Under another client with endpoints configured: the request names one of them; every attempt is re-rooted.
            call.Selector = _endpoints;
            call.OriginBase = OriginOf(request.RequestUri) ?? throw NotUnderAnEndpoint(call, request.RequestUri);
        }

        var content = request.Content;
        if (content is not null && (_options.MaxRetryAttempts > 0 || _endpoints is not null)
            && content is not (ByteArrayContent or ReadOnlyMemoryContent or IReplayableContent))
        {
            // A stream body would be half-read after a failed attempt (and cannot be rewritten for another endpoint's
            // model): buffer it once so every attempt sends it whole.
            await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        }

        _retryBudget?.RecordCall();
        if (call.OwnedByPipeline)
        {
            // Telemetry: a call under another client gets its Activity here, current while the pipeline sends.
            call.Telemetry ??= CallTelemetry.StartForHandler(call, _metrics, request, bodyBuffered: _options.MaxRetryAttempts > 0 || _endpoints is not null);
        }

        Outcome<HttpResponseMessage> outcome;
        var context = ResilienceContextPool.Shared.Get(call.StartDeadline(cancellationToken));
        bool deadlineExpired;
        try
        {
            outcome = await _pipeline.ExecuteOutcomeAsync(static (ctx, state) => state.Handler.SendAttemptAsync(ctx, state.Call), context, (Handler: this, Call: call))
                .ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
            deadlineExpired = call.EndDeadline();
        }

        if (outcome.Exception is { } exception)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                CallTelemetry.EndIfOwned(call); // telemetry
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (deadlineExpired)
            {
                call.StopReason = CallStopReason.TotalTimeout;
                call.LastAttempt?.TimedOut(AttemptEnd.TotalTimedOut, new AttemptFailure(LlmFailureKind.Timeout, false, $"{LlmFailures.DescribeTotalTimeout(call)} expired"));
            }

            var failure = call.Fail(call.LocalFailure is { } local && !deadlineExpired ? local
                : call.LastAttempt?.Failure is null ? Unexpected(exception, call)
                : LlmFailures.ToException(call, _options));
            if (call.OwnedByPipeline)
            {
                CallReporting.Complete(call, _logger, _metrics);
            }

            throw failure;
        }

        var response = outcome.Result!;
        response.RequestMessage = request;
        if (call.OwnedByPipeline && !response.IsSuccessStatusCode)
        {
            // Under another client the error response is returned as it is; the call is still reported as failed.
            call.Fail(LlmFailures.ToException(call, _options));
            CallReporting.Complete(call, _logger, _metrics);
        }

        CallTelemetry.EndIfOwned(call); // telemetry
        return response;
    }

    /// <summary>
    /// One attempt: where it goes (the endpoint the retry decision picked, or a fresh choice; with several endpoints
    /// and none available, a wait for the first to come back or a <see cref="LlmFailureKind.CircuitOpen"/> failure), then
    /// the endpoint's breaker, the attempt timeout and the send.
    /// </summary>
    private ValueTask<Outcome<HttpResponseMessage>> SendAttemptAsync(ResilienceContext context, LlmCall call) =>
        _options.HedgingDelay is { } hedgingDelay && call.HedgesUsed < _options.MaxHedgedAttempts
            ? HedgedAttemptAsync(context, call, hedgingDelay)
            : OneAttemptAsync(context, call);

    /// <summary>
    /// Hedging: the attempt starts as usual; when it has no answer (non-streamed: its body; streamed: its first event)
    /// after HedgingDelay, one more attempt starts, on another available endpoint when there is one. The first to answer
    /// wins; the other is cancelled at once (its connection is released, its record ends Cancelled). A failure of one
    /// waits for the other. The hedge counts against the retry budget and is paced like any attempt.
    /// </summary>
    private async ValueTask<Outcome<HttpResponseMessage>> HedgedAttemptAsync(ResilienceContext context, LlmCall call, TimeSpan hedgingDelay)
    {
        call.ArmDeadline(); // a wait outside the attempt's own timeout (see LlmCall.StartDeadline)
        var primary = new HedgeLeg(this, context, call);
        using var hedgeTimer = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var timer = Task.Delay(hedgingDelay, _time, hedgeTimer.Token);
        if (await Task.WhenAny(primary.Task, timer).ConfigureAwait(false) == primary.Task || context.CancellationToken.IsCancellationRequested
            || (_retryBudget is not null && !_retryBudget.TryTakeRetry()))
        {
            await hedgeTimer.CancelAsync().ConfigureAwait(false);
            return await primary.FinishAsync(context).ConfigureAwait(false);
        }

        call.HedgesUsed++;
        var selector = call.Selector ?? _requestSelector;
        var primaryEndpoint = primary.Attempt?.Endpoint;
        call.NextEndpoint = selector.Routes ? selector.Select(call, skip: primaryEndpoint) ?? primaryEndpoint : primaryEndpoint;
        call.Telemetry?.OnHedge(hedgingDelay, call.NextEndpoint?.Name); // telemetry
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.Hedging(_logger, CallReporting.ClientName(call), primaryEndpoint?.Name ?? "(not started)", (long)hedgingDelay.TotalMilliseconds, call.NextEndpoint?.Name ?? "(same)");
        }

        var hedge = new HedgeLeg(this, context, call);
        var first = await Task.WhenAny(primary.Task, hedge.Task).ConfigureAwait(false);
        var (winner, loser) = first == primary.Task ? (primary, hedge) : (hedge, primary);
        if (!winner.Answered && !loser.Task.IsCompleted)
        {
            // The first to end failed: the other may still answer.
            await loser.Task.ConfigureAwait(false);
            (winner, loser) = (loser, winner);
        }

        if (loser.Task.IsCompletedSuccessfully && loser.Task.Result.Exception is { } refused && ReferenceEquals(refused, call.LocalFailure))
        {
            // The losing leg was refused locally (paced out, no endpoint): that verdict is not the call's.
            call.LocalFailure = null;
            call.StopReason = CallStopReason.None;
        }

        await loser.AbandonAsync().ConfigureAwait(false);
        return await winner.FinishAsync(context).ConfigureAwait(false);
    }

    /// <summary>One leg of a hedged attempt: its own context (so that its attempt record and cancellation are its own).</summary>
    private sealed class HedgeLeg
    {
        private readonly CancellationTokenSource _cancellation;
        private readonly ResilienceContext _context;
        private readonly LlmCall _call;

        public HedgeLeg(LlmResilienceHandler handler, ResilienceContext parent, LlmCall call)
        {
            _cancellation = CancellationTokenSource.CreateLinkedTokenSource(parent.CancellationToken);
            _context = ResilienceContextPool.Shared.Get(_cancellation.Token);
            _call = call;
            ForDecision(_context, call, attempt: null);
            Task = handler.OneAttemptAsync(_context, call).AsTask();
        }

        public Task<Outcome<HttpResponseMessage>> Task { get; }

        public LlmAttempt? Attempt => _context.Properties.TryGetValue(AttemptKey, out var attempt) ? attempt : null;

        /// <summary>Whether the leg ended with an answer worth returning (a success; an error response is a failure here).</summary>
        public bool Answered => Task.IsCompletedSuccessfully && Task.Result.Result is { IsSuccessStatusCode: true };

        /// <summary>Hands the leg's outcome and attempt record to the retry layer.</summary>
        public async ValueTask<Outcome<HttpResponseMessage>> FinishAsync(ResilienceContext parent)
        {
            var outcome = await Task.ConfigureAwait(false);
            ForDecision(parent, _call, Attempt);

            Release();
            return outcome;
        }

        /// <summary>Cancels the leg (its record ends Cancelled, its connection is released) and drops whatever it got.</summary>
        public async ValueTask AbandonAsync()
        {
            Attempt?.LoseHedge();
            await _cancellation.CancelAsync().ConfigureAwait(false);
            try
            {
                var outcome = await Task.ConfigureAwait(false);
                outcome.Result?.Dispose();
            }
            catch (OperationCanceledException)
            {
            }

            Attempt?.LoseHedge();
            Release();
        }

        private void Release()
        {
            ResilienceContextPool.Shared.Return(_context);
            _cancellation.Dispose();
        }
    }

    /// <summary>
    /// One attempt on a client's only endpoint (or under another client, the request's address): the context-window
    /// preflight, then a wait while the endpoint is held off or paced (only when it is), then the send.
    /// </summary>
    private ValueTask<Outcome<HttpResponseMessage>> OneAttemptAsync(ResilienceContext context, LlmCall call)
    {
        var selector = call.Selector ?? _requestSelector;
        var endpoint = call.TakeNextEndpoint();
        if (selector.Routes)
        {
            return RoutedAttemptAsync(context, call, selector, endpoint);
        }

        endpoint ??= selector.Select(call)!;
        if (call.AttemptCount == 0 && endpoint.ContextWindowTokens is not null && ContextPreflight.Refuse(call, [endpoint]) is { } tooLarge)
        {
            return new(Refuse(context, call, tooLarge));
        }

        return endpoint.State is { } state && (state.Pacer is not null || state.HeldOff(_time.GetUtcNow(), call.ModelFor(endpoint), _options.MaxRetryAfter) is not null)
            ? WaitThenSendAsync(context, call, endpoint)
            : SendOnceAsync(context, call, endpoint);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<HttpResponseMessage>> WaitThenSendAsync(ResilienceContext context, LlmCall call, EndpointTarget endpoint)
    {
        if (await WaitUntilNotHeldOffAsync(call, endpoint, context).ConfigureAwait(false) is { } heldOff)
        {
            return Refuse(context, call, heldOff);
        }

        if (endpoint.State!.Pacer is { } pacer && await PaceAsync(call, endpoint, pacer, context).ConfigureAwait(false) is { } pacedOut)
        {
            return Refuse(context, call, pacedOut);
        }

        return await SendOnceAsync(context, call, endpoint).ConfigureAwait(false);
    }

    /// <summary>
    /// One attempt over several endpoints: the first available one (waiting for one to come back when none is), its
    /// pacing, its circuit breaker, then the send.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<HttpResponseMessage>> RoutedAttemptAsync(ResilienceContext context, LlmCall call, IEndpointSelector selector, EndpointTarget? endpoint)
    {
        if (call.AttemptCount == 0 && selector is EndpointRouter router && ContextPreflight.Refuse(call, router.Endpoints) is { } noWindow)
        {
            return Refuse(context, call, noWindow);
        }

        // Bounded: each endpoint is skipped at most once per attempt (a breaker that refused it), and waits at most twice.
        var skipped = 0;
        var waits = 0;
        EndpointTarget? refused = null;
        while (true)
        {
            if (endpoint is null || endpoint.State!.UnavailableUntil(_time.GetUtcNow()) is not null || ReferenceEquals(endpoint, refused))
            {
                endpoint = selector.Select(call, refused);
            }

            if (endpoint is null)
            {
                var wait = selector.AvailableIn(call);
                if (wait is not { } delay || delay > _options.MaxRetryAfter || delay >= call.Remaining || waits++ >= 2)
                {
                    return Refuse(context, call, NoEndpoint(call, selector, wait));
                }

                if (_logger.IsEnabled(LogLevel.Warning))
                {
                    Log.WaitingForEndpoint(_logger, CallReporting.ClientName(call), selector.DescribeAvailability(), (long)delay.TotalMilliseconds);
                }

                call.Telemetry?.OnEndpointWait(delay, selector.DescribeAvailability()); // telemetry
                call.ArmDeadline();
                await Task.Delay(delay, _time, context.CancellationToken).ConfigureAwait(false);
                refused = null;
                continue;
            }

            if (endpoint.State!.Pacer is { } pacer && await PaceAsync(call, endpoint, pacer, context).ConfigureAwait(false) is { } paced)
            {
                return Refuse(context, call, paced);
            }

            var before = call.AttemptCount;
            var outcome = await endpoint.State!.Breaker!.ExecuteOutcomeAsync(
                static (ctx, state) => state.Handler.SendOnceAsync(ctx, state.Call, state.Endpoint),
                context, (Handler: this, Call: call, Endpoint: endpoint)).ConfigureAwait(false);
            if (outcome.Exception is BrokenCircuitException && call.AttemptCount == before && skipped++ < 8)
            {
                // Another call took the breaker's one half-open probe (or opened it) since the choice: choose again.
                refused = endpoint;
                endpoint = null;
                continue;
            }

            if (outcome.Exception is not null)
            {
                ForDecision(context, call, attempt: null); // a breaker's refusal comes without an attempt of its own
            }

            return outcome;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<HttpResponseMessage>> SendOnceAsync(ResilienceContext context, LlmCall call, EndpointTarget endpoint)
    {
        var selector = call.Selector ?? _requestSelector;
        var attempt = call.StartAttempt(endpoint);
        if (attempt.Number > 1 || _options.HedgingDelay is not null)
        {
            // A later attempt replaces the failed one an endpoint's breaker would otherwise read; a hedge reads its leg's
            // attempt while it runs. A first attempt is put there only if it fails (ForDecision).
            ForDecision(context, call, attempt);
        }

        // 3. The attempt timeout: from sending to the body (non-streamed) or the first event (streamed).
        var timeout = LlmFailures.AttemptTimeoutOf(call, _options);
        if (timeout >= call.Remaining)
        {
            // The deadline comes first: its clock runs (otherwise the attempt's own timeout, earlier, bounds the call).
            call.ArmDeadline();
        }

        using var attemptTimeout = new TimeoutTokenSource(timeout, _time, context.CancellationToken);
        var cancellationToken = attemptTimeout.Token;
        var state = endpoint.State;
        // Counted only where a router reads it (the least-loaded choice): a shared counter is a contended cache line.
        var counted = selector.Routes ? state : null;
        counted?.AttemptStarted();
        HttpResponseMessage? response = null;
        try
        {
            var (credential, secret) = endpoint.CredentialProvider is null
                ? (endpoint.CredentialValue, endpoint.Secret)
                : await CredentialAsync(endpoint, cancellationToken).ConfigureAwait(false);
            var message = AttemptMessage.Create(call, endpoint, credential);
            message.CanLeaseConnection = ConnectionsLeasable;
            attempt.RequestUri = message.RequestUri;
            try
            {
                response = await base.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                message.EndLease(exception);
                throw;
            }

            message.EndLease(response);
            attempt.OnResponse(response);
            if (attempt.RateLimits is { } limits)
            {
                state?.Learn(limits, _time.GetUtcNow(), _time);
            }

            if (response.IsSuccessStatusCode)
            {
                // Within the attempt (and its timeout): a streamed body up to its first event, a non-streamed one whole.
                var content = response.Content;
                if (MediaTypes.IsEventStream(content))
                {
                    await FirstEventReader.ReadFirstEventAsync(response, _options, _time, attempt.StartTimestamp, call.DeadlineTimestamp,
                        attempt.RequestUri, cancellationToken).ConfigureAwait(false);
                }
                else if (BufferedBodyContent.DeclaredLength(content) is var declared && declared > _options.MaxResponseBytes)
                {
                    throw TooLarge(attempt.RequestUri, declared);
                }
                else if (!await BufferedBodyContent.BufferAsync(response, declared, _options.MaxResponseBytes, cancellationToken).ConfigureAwait(false))
                {
                    throw TooLarge(attempt.RequestUri, null);
                }

                attempt.Succeed(_time);
            }
            else
            {
                var body = await ReadErrorBodyAsync(response, cancellationToken).ConfigureAwait(false);
                attempt.Fail(LlmFailures.FromResponse(response, body, _time.GetUtcNow(), secret ?? call.Secret), _time);
                ForDecision(context, call, attempt);
            }

            selector.Report(attempt, _time);
            return Outcome.FromResult(response);
        }
        catch (Exception exception)
        {
            response?.Dispose();
            attempt.RequestUri ??= AttemptMessage.Rebase(call.Template?.RequestUri, call.OriginBase, endpoint.BaseAddress);
            attempt.Fail(LlmFailures.FromException(exception), _time);
            if (call.CancellationToken.IsCancellationRequested || attempt.LostHedge)
            {
                attempt.Cancelled();
            }
            else if (exception is OperationCanceledException && attemptTimeout.Expired)
            {
                attempt.TimedOut(AttemptEnd.AttemptTimedOut, LlmFailures.AttemptTimedOut(call, _options));
                exception = new TimeoutRejectedException($"The attempt timed out after {timeout}.", timeout, exception);
            }

            selector.Report(attempt, _time);
            ForDecision(context, call, attempt);
            return Outcome.FromException<HttpResponseMessage>(exception);
        }
        finally
        {
            counted?.AttemptEnded();
        }
    }

    /// <summary>
    /// Whether the connection layer may hand each send's hold on its pool up to the attempt (<see cref="RecyclingConnectionHandler.ConnectionLease"/>):
    /// only when it is the next handler down, or only the factory's logging handler (status and headers) is between, since
    /// the response is decoded where the hold ends. Decided at the first send, when the chain below is fixed.
    /// </summary>
    private bool ConnectionsLeasable
    {
        get
        {
            var known = _connectionsLeasable;
            if (known == 0)
            {
                var below = InnerHandler;
                while (below is Microsoft.Extensions.Http.Logging.LoggingHttpMessageHandler logging)
                {
                    below = logging.InnerHandler;
                }

                _connectionsLeasable = known = below is RecyclingConnectionHandler ? 1 : -1;
            }

            return known > 0;
        }
    }

    /// <summary>Ends the call with a failure the pipeline decided itself: no request goes out for this attempt.</summary>
    private static Outcome<HttpResponseMessage> Refuse(ResilienceContext context, LlmCall call, LlmException failure)
    {
        call.LocalFailure = failure;
        ForDecision(context, call, attempt: null);
        return Outcome.FromException<HttpResponseMessage>(failure);
    }

    /// <summary>
    /// Puts the call (and the attempt to decide about) where the retry's predicate, delay and OnRetry and an endpoint's
    /// breaker read them: the context. Only when a decision needs them, that is from a failure on, and for every attempt
    /// after the first: a call that ends with its first attempt's success leaves the pooled context untouched (two
    /// dictionary writes and the clearing of them; in a profile at 32 callers, Polly's context reset alone fell from
    /// 0.25 to 0.10 µs per call).
    /// </summary>
    private static void ForDecision(ResilienceContext context, LlmCall call, LlmAttempt? attempt)
    {
        context.Properties.Set(CallKey, call);
        if (attempt is not null)
        {
            context.Properties.Set(AttemptKey, attempt);
        }
    }

    /// <summary>
    /// A client's only endpoint is held off (its server asked for a wait, here or, through a fleet's shared state, in
    /// another instance): waits for the end when it comes within MaxRetryAfter and the deadline, as a retry would;
    /// otherwise returns the failure to end the call with, no request sent.
    /// </summary>
    private async ValueTask<LlmException?> WaitUntilNotHeldOffAsync(LlmCall call, EndpointTarget endpoint, ResilienceContext context)
    {
        // Bounded: a hold that another failure extends meanwhile is waited for twice more at most. Once the end waited for
        // has come, a timer that fired a little early leaves nothing to wait for.
        var waitedFor = DateTimeOffset.MinValue;
        for (var waits = 0; endpoint.State!.HeldOff(_time.GetUtcNow(), call.ModelFor(endpoint), _options.MaxRetryAfter) is { } held && held.Until > waitedFor; waits++)
        {
            var now = _time.GetUtcNow();
            var wait = held.Until - now;
            var why = $"{endpoint.Name}: {endpoint.State.WhyUnavailable(now) ?? "held off"}";
            if (wait > _options.MaxRetryAfter || wait >= call.Remaining || waits >= 2)
            {
                call.StopReason = CallStopReason.NoEndpointAvailable;
                var limit = wait > _options.MaxRetryAfter ? $"beyond MaxRetryAfter ({_options.MaxRetryAfter})" : waits >= 2 ? "and kept being extended" : "beyond the call's deadline";
                return new LlmException(held.Kind,
                    $"The endpoint is held off for {Math.Ceiling(wait.TotalSeconds):0} s more, {limit}, so no request was sent{(call.AttemptCount == 0 ? string.Empty : $" after {LlmFailures.Count(call.AttemptCount)}")}: {why}. Retry after RetryAfter, or add endpoints to fail over to.")
                {
                    RetryAfter = wait,
                    Attempts = call.AttemptCount,
                    Endpoint = endpoint.Name,
                };
            }

            if (_logger.IsEnabled(LogLevel.Warning))
            {
                Log.WaitingForEndpoint(_logger, CallReporting.ClientName(call), why, (long)wait.TotalMilliseconds);
            }

            call.Telemetry?.OnEndpointWait(wait, why); // telemetry
            call.ArmDeadline();
            await Task.Delay(wait, _time, context.CancellationToken).ConfigureAwait(false);
            waitedFor = held.Until;
        }

        return null;
    }

    /// <summary>
    /// Waits for the endpoint's budget (in arrival order) when it comes within MaxRetryAfter and the deadline; returns the
    /// failure to end the call with when it does not.
    /// </summary>
    private async ValueTask<LlmException?> PaceAsync(LlmCall call, EndpointTarget endpoint, EndpointPacer pacer, ResilienceContext context)
    {
        var cost = pacer.Tokens is null ? 0 : TokenEstimate.Of(call);
        var bound = call.Remaining < _options.MaxRetryAfter ? call.Remaining : _options.MaxRetryAfter;
        var start = _time.GetTimestamp();
        call.ArmDeadline();
        var (needed, shared) = await pacer.AdmitAsync(cost, bound, context.CancellationToken).ConfigureAwait(false);
        if (needed is not { } wait)
        {
            call.ChargedTokens = pacer.Tokens is null ? null : cost;
            call.ChargedShared = shared;
            if (_time.GetElapsedTime(start) is { Ticks: > 0 } waited)
            {
                call.Telemetry?.OnPacingWait(waited, endpoint.Name); // telemetry
            }

            return null;
        }

        call.StopReason = CallStopReason.PacedOut;
        var limit = wait > _options.MaxRetryAfter ? $"MaxRetryAfter ({_options.MaxRetryAfter})" : "the call's deadline";
        return new LlmException(LlmFailureKind.RateLimited,
            $"The call was paced locally and no request was sent{(call.AttemptCount == 0 ? string.Empty : $" after {LlmFailures.Count(call.AttemptCount)}")}: endpoint {endpoint.Name} has no budget left for it ({pacer.Describe()}) and the next room is {Math.Ceiling(wait.TotalSeconds):0} s away, beyond {limit}. Lower the request rate or concurrency, raise RequestsPerMinute / TokensPerMinute if the provider allows more, or add endpoints.")
        {
            RetryAfter = wait,
            Attempts = call.AttemptCount,
            Endpoint = endpoint.Name,
        };
    }

    /// <summary>The endpoint's credential from its provider, as the header value and the key to scrub.</summary>
    private static async ValueTask<(string? Credential, string? Secret)> CredentialAsync(EndpointTarget endpoint, CancellationToken cancellationToken)
    {
        string key;
        try
        {
            key = await endpoint.CredentialProvider!(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new LlmException(LlmFailureKind.Unauthorized,
                $"The ApiKeyProvider of endpoint {endpoint.Name} failed ({exception.GetType().Name}), so no credential could be sent. Check the provider (an Entra ID token source, a key vault).", exception);
        }

        if (string.IsNullOrEmpty(key))
        {
            throw new LlmException(LlmFailureKind.Unauthorized, $"The ApiKeyProvider of endpoint {endpoint.Name} returned no key. Check the provider (an Entra ID token source, a key vault).");
        }

        return (endpoint.Bearer ? "Bearer " + key : key, key);
    }

    /// <summary>The configured endpoint base address the request's address is under (the address the client was pointed at).</summary>
    private Uri? OriginOf(Uri? requestUri)
    {
        if (requestUri is not { IsAbsoluteUri: true })
        {
            return null;
        }

        var path = requestUri.GetLeftPart(UriPartial.Path);
        foreach (var endpoint in _options.Endpoints)
        {
            var prefix = EndpointTargets.WithTrailingSlash(endpoint.BaseAddress!).GetLeftPart(UriPartial.Path);
            if (path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return EndpointTargets.WithTrailingSlash(endpoint.BaseAddress!);
            }
        }

        return null;
    }

    private LlmException NotUnderAnEndpoint(LlmCall call, Uri? requestUri) =>
        call.Fail(new LlmException(LlmFailureKind.BadRequest,
            $"The request to {Endpoints.Describe(requestUri)} is not under any configured endpoint's base address ({string.Join(", ", _options.Endpoints.Select(static e => Endpoints.Describe(e.BaseAddress)))}), so it cannot be routed. Point the client (the SDK's Endpoint, HttpClient.BaseAddress) at one of them, conventionally the first."));

    /// <summary>Every endpoint is unavailable and none comes back in time: fail at once, naming each and why.</summary>
    private LlmException NoEndpoint(LlmCall call, IEndpointSelector selector, TimeSpan? wait)
    {
        call.StopReason = CallStopReason.NoEndpointAvailable;
        var attempts = call.AttemptCount;
        var when = wait is { } w
            ? $"The first comes back in {Math.Ceiling(w.TotalSeconds):0} s, {(w > _options.MaxRetryAfter ? $"beyond MaxRetryAfter ({_options.MaxRetryAfter})" : "beyond the call's deadline")}."
            : "None of them can take this call.";
        return new LlmException(LlmFailureKind.CircuitOpen,
            $"No endpoint is available for this call{(attempts == 0 ? ", so no request was sent" : $" after {LlmFailures.Count(attempts)}")}: {selector.DescribeAvailability()}. {when} Retry after RetryAfter, or add endpoints.")
        {
            RetryAfter = wait,
            Attempts = attempts,
            Endpoint = call.LastAttempt?.Endpoint.Name,
        };
    }

    private static async ValueTask<byte[]> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var content = response.Content;
        try
        {
            await content.LoadIntoBufferAsync(MaxErrorBodyBytes, cancellationToken).ConfigureAwait(false);
            return await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            // The status decides; an unreadable or oversized error body must not turn a 429 into a transport failure.
            response.Content = new ByteArrayContent([]);
            content.Dispose();
            return [];
        }
    }

    private LlmException TooLarge(Uri? endpoint, long? length) => new(LlmFailureKind.InvalidResponse,
        $"The response from {Endpoints.Describe(endpoint)} is larger than MaxResponseBytes ({_options.MaxResponseBytes} bytes{(length is null ? string.Empty : $"; Content-Length {length}")}). Raise LlmResilienceOptions.MaxResponseBytes or ask for less output.",
        statusCode: System.Net.HttpStatusCode.OK);

    private bool ShouldRetry(ResilienceContext context, int attemptNumber, Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Result is { IsSuccessStatusCode: true })
        {
            return false; // every successful call passes here: nothing to look up
        }

        if (context.CancellationToken.IsCancellationRequested
            || !context.Properties.TryGetValue(CallKey, out var call) || call.LocalFailure is not null
            || !context.Properties.TryGetValue(AttemptKey, out var attempt))
        {
            // Cancelled here means the caller or the total deadline: neither leaves room for another attempt. A local
            // failure (no endpoint available, paced out) was decided inside the attempt, which waited if it could. A
            // failure with no call or attempt recorded (ForDecision) came from outside any attempt: nothing to decide on.
            return false;
        }

        var isLast = attemptNumber >= (call.MaxRetryAttempts ?? _options.MaxRetryAttempts) || call.SingleAttempt; // SingleAttempt: a health probe
        var selector = call.Selector ?? _requestSelector;
        var decision = selector.Routes ? DecideRouted(call, attempt, selector, isLast) : Decide(call, attempt, isLast);
        if (decision.Retry && _retryBudget is not null && !_retryBudget.TryTakeRetry())
        {
            decision = RetryDecision.StopWith(CallStopReason.RetryBudgetExhausted);
            call.NextEndpoint = null;
        }

        attempt.Decision = decision;
        return decision.Retry;
    }

    private RetryDecision Decide(LlmCall call, LlmAttempt attempt, bool isLast)
    {
        if (attempt.Failure is not { } failure || attempt.End == AttemptEnd.Cancelled)
        {
            return RetryDecision.StopWith(CallStopReason.NotRetryable);
        }

        if (!failure.Retryable)
        {
            return RetryDecision.StopWith(failure.ServerSaysRetry == false ? CallStopReason.ServerSaidDoNotRetry : CallStopReason.NotRetryable);
        }

        if (isLast)
        {
            return RetryDecision.StopWith(CallStopReason.AttemptsExhausted);
        }

        TimeSpan delay;
        RetryDelaySource source;
        if (failure.RetryAfter is { } wait)
        {
            if (wait > _options.MaxRetryAfter)
            {
                return RetryDecision.StopWith(CallStopReason.RetryAfterTooLong);
            }

            (delay, source) = (wait, RetryDelaySource.ServerHint);
        }
        else if (failure.Kind == LlmFailureKind.ResetBeforeHeaders && attempt.FailedBeforeHeaders && !call.ImmediateRetryUsed)
        {
            // The request never reached the model (typically a pooled connection the far side had closed): the dead
            // connection is gone from the pool, so try again at once.
            call.ImmediateRetryUsed = true;
            (delay, source) = (TimeSpan.Zero, RetryDelaySource.Immediate);
        }
        else
        {
            (delay, source) = (Backoff.Compute(call.BackoffCount++, _options, _random), RetryDelaySource.Backoff);
        }

        return delay >= call.Remaining
            ? RetryDecision.StopWith(CallStopReason.WouldOutliveTotalTimeout)
            : new RetryDecision(true, delay, source, CallStopReason.None);
    }

    /// <summary>
    /// Several endpoints: a failure of the endpoint (its key, its quota, its health, its rate limit) moves the call to
    /// another endpoint at once; a failure of the request (400, 422) does not. Going back to an endpoint that already
    /// failed in this call is a retry, with backoff. With none available, wait for the first to come back when it does
    /// within MaxRetryAfter and the deadline.
    /// </summary>
    private RetryDecision DecideRouted(LlmCall call, LlmAttempt attempt, IEndpointSelector selector, bool isLast)
    {
        if (attempt.Failure is not { } failure || attempt.End == AttemptEnd.Cancelled)
        {
            return RetryDecision.StopWith(CallStopReason.NotRetryable);
        }

        if (failure.ServerSaysRetry == false)
        {
            return RetryDecision.StopWith(CallStopReason.ServerSaidDoNotRetry);
        }

        if (!failure.Retryable && !FailsOver(failure))
        {
            return RetryDecision.StopWith(CallStopReason.NotRetryable);
        }

        if (isLast)
        {
            return RetryDecision.StopWith(CallStopReason.AttemptsExhausted);
        }

        var next = selector.Select(call);
        if (next is null)
        {
            if (failure.Kind == LlmFailureKind.ContextLengthExceeded || selector.AvailableIn(call) is not { } wait)
            {
                return RetryDecision.StopWith(failure.Kind == LlmFailureKind.ContextLengthExceeded ? CallStopReason.NotRetryable : CallStopReason.NoEndpointAvailable);
            }

            return wait > _options.MaxRetryAfter || wait >= call.Remaining
                ? RetryDecision.StopWith(CallStopReason.NoEndpointAvailable)
                : new RetryDecision(true, wait, RetryDelaySource.EndpointCooldown, CallStopReason.None);
        }

        call.NextEndpoint = next;
        if (!EndpointRouter.FailedIn(next, call.Attempts))
        {
            return new RetryDecision(true, TimeSpan.Zero, RetryDelaySource.Failover, CallStopReason.None);
        }

        var delay = Backoff.Compute(call.BackoffCount++, _options, _random);
        return delay >= call.Remaining
            ? RetryDecision.StopWith(CallStopReason.WouldOutliveTotalTimeout)
            : new RetryDecision(true, delay, RetryDelaySource.Backoff, CallStopReason.None);
    }

    /// <summary>Failures of the endpoint rather than of the request: another endpoint may answer.</summary>
    internal static bool FailsOver(AttemptFailure failure) =>
        failure.Kind is LlmFailureKind.Unauthorized or LlmFailureKind.QuotaExceeded or LlmFailureKind.RateLimited or LlmFailureKind.ServerError
            or LlmFailureKind.ProxyUpstreamFailure or LlmFailureKind.Timeout or LlmFailureKind.ConnectFailure or LlmFailureKind.ResetBeforeHeaders
            or LlmFailureKind.ContextLengthExceeded
        || failure.StatusCode == 404;

    private void OnRetry(ResilienceContext context, TimeSpan delay)
    {
        var call = context.Properties.GetValue(CallKey, null!);
        call.ArmDeadline(); // the delay and every attempt after it run under the deadline's clock
        var attempt = context.Properties.GetValue(AttemptKey, null!);
        var failure = attempt.Failure!;
        _metrics.RecordRetry(failure, attempt.RequestUri, attempt.Endpoint.Name);
        call.Telemetry?.OnRetry(attempt, delay, call.NextEndpoint); // telemetry: an event per retry, failover and wait
        if (_logger.IsEnabled(LogLevel.Warning))
        {
            if (attempt.Decision is { Source: RetryDelaySource.Failover } && call.NextEndpoint is { } next)
            {
                Log.FailingOver(_logger, CallReporting.ClientName(call), attempt.Number, attempt.Endpoint.Name, failure.Reason, next.Name);
            }
            else if (attempt.Decision is { Source: RetryDelaySource.EndpointCooldown })
            {
                Log.WaitingForEndpoint(_logger, CallReporting.ClientName(call), (call.Selector ?? _requestSelector).DescribeAvailability(), (long)delay.TotalMilliseconds);
            }
            else
            {
                Log.Retrying(_logger, CallReporting.ClientName(call), Endpoints.Describe(attempt.RequestUri), attempt.Number, failure.Reason,
                    (long)delay.TotalMilliseconds, attempt.RequestId);
            }
        }
    }

    // Polly itself failed before or around an attempt (not a path the tests can reach); still a typed, key-free failure.
    private static LlmException Unexpected(Exception exception, LlmCall call) =>
        new(LlmFailures.FromException(exception).Kind, $"The call failed before an attempt could be made ({TransportFailures.Describe(exception)}).", exception)
        {
            Attempts = call.AttemptCount,
        };

    /// <summary>Under another client: every attempt goes to the address the request names, and the endpoint is its authority.</summary>
    private sealed class RequestAddressSelector(IEndpointStateStore store) : IEndpointSelector
    {
        private Seen? _lastSeen;

        public bool Routes => false;

        public TimeSpan? AvailableIn(LlmCall call) => TimeSpan.Zero;

        public string DescribeAvailability() => Volatile.Read(ref _lastSeen)?.Target.Name ?? "(request's address)";

        public EndpointTarget? Select(LlmCall call, EndpointTarget? skip = null)
        {
            var uri = call.Template?.RequestUri;
            // Most clients call one host: keep the last target rather than a new one per call, compared by the Uri's own
            // (cached) scheme, host and port, so that a call to the same host builds no string.
            var last = Volatile.Read(ref _lastSeen);
            if (last is not null && uri is { IsAbsoluteUri: true } && uri.Port == last.Port
                && string.Equals(uri.Host, last.Host, StringComparison.Ordinal) && string.Equals(uri.Scheme, last.Scheme, StringComparison.Ordinal))
            {
                return last.Target;
            }

            var name = uri is { IsAbsoluteUri: true } ? uri.GetLeftPart(UriPartial.Authority) : "(relative)";
            if (last is not null && string.Equals(last.Target.Name, name, StringComparison.Ordinal))
            {
                return last.Target;
            }

            var target = new EndpointTarget(name) { State = store.Get(name) };
            Volatile.Write(ref _lastSeen, uri is { IsAbsoluteUri: true } ? new Seen(target, uri.Scheme, uri.Host, uri.Port) : new Seen(target, string.Empty, string.Empty, -1));
            return target;
        }

        private sealed record Seen(EndpointTarget Target, string Scheme, string Host, int Port);

        public void Report(LlmAttempt attempt, TimeProvider time) => (attempt.Endpoint.State ?? store.Get(attempt.Endpoint.StateKey)).Record(attempt, time.GetUtcNow(), policy: null);
    }
}
