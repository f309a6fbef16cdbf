using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// One logical call, from the caller's request to its answer or its failure: the deadline, the request as the caller
/// made it (the template every attempt is built from), one <see cref="LlmAttempt"/> per attempt, why it stopped, and
/// how it failed. Created by the typed client (and handed to the pipeline on its request, a <see cref="CallRequestMessage"/>), or by the
/// pipeline itself when it runs under another client. Everything that reports on a call (the exception, the logs, the
/// metrics) reads this one record.
/// </summary>
/// <remarks>
/// The attempt list is the only state written by concurrent attempts, and is guarded. The retry state
/// (<see cref="BackoffCount"/>, <see cref="ImmediateRetryUsed"/>) is written only by the retry strategy, which runs
/// between attempts. The API key never appears in <see cref="ToString"/>.
/// </remarks>
internal sealed class LlmCall : IDisposable
{
    private readonly List<LlmAttempt> _attempts = new(2);
    private LlmAttempt? _last;
    private HttpContent? _modelContent;
    private string? _modelContentModel;
    private int _completed;

    public LlmCall(string? clientName, TimeProvider time, TimeSpan totalTimeout, bool ownedByPipeline)
    {
        ClientName = clientName;
        Time = time;
        StartTimestamp = time.GetTimestamp();
        TotalTimeout = totalTimeout;
        DeadlineTimestamp = StartTimestamp + (long)(totalTimeout.TotalSeconds * time.TimestampFrequency);
        OwnedByPipeline = ownedByPipeline;
    }

    /// <summary>The named client's name, for logs (<see langword="null"/> for the default client).</summary>
    public string? ClientName { get; }

    public TimeProvider Time { get; }

    public long StartTimestamp { get; }

    public TimeSpan TotalTimeout { get; }

    /// <summary>The call's deadline as a <see cref="TimeProvider"/> timestamp: every attempt, wait and streamed body ends by then.</summary>
    public long DeadlineTimestamp { get; }

    /// <summary>Whether the pipeline created this call (it then also reports it), rather than the typed client.</summary>
    public bool OwnedByPipeline { get; }

    /// <summary>The request as the caller handed it to the pipeline. Never sent itself: every attempt sends a fresh copy.</summary>
    public HttpRequestMessage? Template { get; set; }

    /// <summary>The typed request, when the typed client made the call: an endpoint that serves another model gets a body for that model.</summary>
    public ChatCompletionRequest? ChatRequest { get; init; }

    /// <summary>The model the typed client's request asks for (the request's own, else the client's); the body says so.</summary>
    public string? RequestModel { get; init; }

    /// <summary>One attempt only, whatever MaxRetryAttempts says: a health probe reports what is, without retrying it away.</summary>
    public bool SingleAttempt { get; init; }

    /// <summary>Whether the typed client asked for a stream.</summary>
    public bool Stream { get; init; }

    /// <summary>The base address the template's URI is relative to (the typed client's), so an endpoint with another base can re-root it.</summary>
    public Uri? OriginBase { get; set; }

    /// <summary>The caller's cancellation (as the pipeline received it): a cancelled attempt is the caller's doing, not a failure.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Where attempts go; <see langword="null"/>: the pipeline's own selector (the request's address).</summary>
    public IEndpointSelector? Selector { get; set; }

    /// <summary>The call's estimated token cost, once pacing or the context preflight needed it (<see cref="TokenEstimate"/>).</summary>
    public int? EstimatedTokens { get; set; }

    /// <summary>The tokens pacing took for the call (its estimate), corrected from the answer's <c>usage</c>.</summary>
    public int? ChargedTokens { get; set; }

    /// <summary>Whether <see cref="ChargedTokens"/> were taken from a fleet's shared budget (corrections go there too).</summary>
    public bool ChargedShared { get; set; }

    /// <summary>
    /// A failure the pipeline decided without a response to go with it (no endpoint available, paced out, a request too
    /// large for every context window): it ends the call as it is, without another attempt.
    /// </summary>
    public LlmException? LocalFailure { get; set; }

    /// <summary>This call's retries when the caller set them (<see cref="LlmRequestOptions.MaxRetryAttempts"/>); otherwise the pipeline's.</summary>
    public int? MaxRetryAttempts { get; init; }

    /// <summary>Whether <see cref="TotalTimeout"/> is the call's own (<see cref="LlmRequestOptions.TotalTimeout"/>) rather than the pipeline's.</summary>
    public bool OwnTotalTimeout { get; init; }

    /// <summary>This call's attempt timeout when the caller set it; otherwise the pipeline's.</summary>
    public TimeSpan? AttemptTimeout { get; init; }

    /// <summary>How many hedged attempts the call has started.</summary>
    public int HedgesUsed { get; set; }

    /// <summary>The endpoint the retry decision chose for the next attempt (several endpoints), taken by that attempt.</summary>
    public EndpointTarget? NextEndpoint { get; set; }

    public EndpointTarget? TakeNextEndpoint()
    {
        var next = NextEndpoint;
        NextEndpoint = null;
        return next;
    }

    /// <summary>
    /// A secret to scrub from anything the server echoes: the key the call sends (given by the typed client, or read
    /// lazily, on the failure path only, from the template's <c>Authorization</c> or <c>api-key</c> header). Never printed.
    /// </summary>
    public string? Secret
    {
        get => _secret ??= SecretOf(Template);
        set => _secret = value;
    }

    private string? _secret;

    /// <summary>The attempts so far, in the order they started.</summary>
    public IReadOnlyList<LlmAttempt> Attempts
    {
        get
        {
            lock (_attempts)
            {
                return [.. _attempts];
            }
        }
    }

    public int AttemptCount => Volatile.Read(ref _last)?.Number ?? 0;

    public LlmAttempt? LastAttempt => Volatile.Read(ref _last);

    /// <summary>Set by the total-timeout strategy when the deadline cancelled an attempt; otherwise derived from the last attempt.</summary>
    public CallStopReason StopReason
    {
        get
        {
            if (_stopReason != CallStopReason.None)
            {
                return _stopReason;
            }

            var last = LastAttempt;
            return last?.Failure is not { } failure ? CallStopReason.None
                : last.Decision is { Retry: false } decision ? decision.Stop
                : failure.Retryable ? CallStopReason.AttemptsExhausted : CallStopReason.NotRetryable;
        }
        set => _stopReason = value;
    }

    private CallStopReason _stopReason;

    /// <summary>The call's Activity and metrics, when something listens (<see langword="null"/> otherwise); ended with the call.</summary>
    public CallTelemetry? Telemetry { get; set; }

    /// <summary>The exception the call failed with, once it has.</summary>
    public LlmException? Failure { get; private set; }

    /// <summary>What is left of the deadline (zero or more).</summary>
    public TimeSpan Remaining
    {
        get
        {
            var left = Time.GetElapsedTime(Time.GetTimestamp(), DeadlineTimestamp);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>How many computed backoffs the retry strategy has used (the exponent of the next one).</summary>
    public int BackoffCount { get; set; }

    /// <summary>Whether the one immediate retry after a reset before headers has been used.</summary>
    public bool ImmediateRetryUsed { get; set; }

    /// <summary>
    /// Starts the call's deadline: the token every attempt and every wait of the pipeline runs under, cancelled at
    /// <see cref="DeadlineTimestamp"/> or when the caller cancels. The outermost layer of the pipeline; a token rather
    /// than a timeout strategy because the same deadline also bounds what comes after the pipeline (a streamed body's
    /// guard reads <see cref="DeadlineTimestamp"/>). Ended by <see cref="EndDeadline"/> once the pipeline returns.
    /// </summary>
    /// <remarks>
    /// Its clock starts at <see cref="ArmDeadline"/>, which the pipeline calls before anything that could outlast the
    /// deadline: an attempt whose own timeout does not end before it, and every wait outside an attempt (a retry's delay,
    /// pacing, a held-off or unavailable endpoint, a hedge). Until then the running attempt's own, earlier timeout bounds
    /// the call, so a call that ends with its first attempt never creates the deadline's timer.
    /// </remarks>
    public CancellationToken StartDeadline(CancellationToken callerToken)
    {
        CancellationToken = callerToken;
        _deadline = TimeoutTokenSource.Unarmed(Time, callerToken);
        return _deadline.Token;
    }

    /// <summary>
    /// Starts the deadline's clock (once; later calls do nothing): it cancels the deadline's token at
    /// <see cref="DeadlineTimestamp"/>, at once when that has passed.
    /// </summary>
    public void ArmDeadline() => _deadline?.Arm(Remaining);

    /// <summary>Stops the deadline's clock and reports whether it had expired (as opposed to the caller cancelling).</summary>
    public bool EndDeadline()
    {
        var deadline = _deadline;
        _deadline = null;
        if (deadline is null)
        {
            return false;
        }

        var expired = deadline.Expired;
        deadline.Dispose();
        return expired;
    }

    private TimeoutTokenSource? _deadline;

    /// <summary>The model an attempt to <paramref name="endpoint"/> asks for: the endpoint's own, else the request's; <see langword="null"/> when the body was not ours to read.</summary>
    public string? ModelFor(EndpointTarget endpoint) => endpoint.Model ?? RequestModel;

    /// <summary>Records the start of a new attempt to <paramref name="endpoint"/>.</summary>
    public LlmAttempt StartAttempt(EndpointTarget endpoint)
    {
        lock (_attempts)
        {
            var attempt = new LlmAttempt(_attempts.Count + 1, endpoint, Time.GetTimestamp()) { Model = ModelFor(endpoint) };
            _attempts.Add(attempt);
            // Read without the lock (several times per call): the latest attempt, whose number is the count.
            Volatile.Write(ref _last, attempt);
            return attempt;
        }
    }

    /// <summary>Records the exception the call fails with (the first one counts) and returns it.</summary>
    public LlmException Fail(LlmException exception)
    {
        lock (_attempts)
        {
            Failure ??= exception;
            return Failure;
        }
    }

    /// <summary>Whether this is the first completion (reporting happens once per call).</summary>
    public bool TryComplete() => Interlocked.Exchange(ref _completed, 1) == 0;

    /// <summary>
    /// The request body for <paramref name="model"/>: the template's own when the model is the same, otherwise one
    /// serialized for that model (once per call; an endpoint that serves another model).
    /// </summary>
    public HttpContent? ContentFor(string? model)
    {
        var template = Template?.Content;
        if (model is null || template is null || (ChatRequest is not null && string.Equals(model, RequestModel, StringComparison.Ordinal)))
        {
            return template;
        }

        lock (_attempts)
        {
            if (!string.Equals(_modelContentModel, model, StringComparison.Ordinal))
            {
                _modelContent?.Dispose();
                // The typed client's request is serialized again; another client's body (already buffered) has its model rewritten.
                _modelContent = ChatRequest is not null
                    ? JsonRequestContent.Create(ChatRequest, model, Stream, LlmJsonContext.Relaxed.Options)
                    : JsonModelRewriter.Rewrite(template, model);
                _modelContentModel = model;
            }

            return _modelContent;
        }
    }

    public void Dispose()
    {
        Telemetry?.End(this);
        EndDeadline();
        lock (_attempts)
        {
            _modelContent?.Dispose();
            _modelContent = null;
        }
    }

    private static string? SecretOf(HttpRequestMessage? request)
    {
        if (request is null)
        {
            return null;
        }

        if (request.Headers.NonValidated.TryGetValues("Authorization", out var authorization))
        {
            var value = authorization.ToString();
            var space = value.IndexOf(' ', StringComparison.Ordinal);
            return space > 0 ? value[(space + 1)..].Trim() : value;
        }

        return request.Headers.NonValidated.TryGetValues("api-key", out var apiKey) ? apiKey.ToString() : null;
    }

    public override string ToString() =>
        $"LlmCall {{ Client = {ClientName ?? "(default)"}, Attempts = {AttemptCount}, Stop = {StopReason}, Failure = {Failure?.Kind.ToString() ?? "none"} }}";
}
