using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// The telemetry of one call, read from its <see cref="LlmCall"/> record: the call's Activity (kind Client, named
/// <c>chat {model}</c>, the gen_ai attributes, an event per retry, failover and wait) and, when it ends, the gen_ai
/// metrics and ours (attempts by outcome, stream stalls). Exists only when something listens: <see cref="StartForClient"/>
/// and <see cref="StartForHandler"/> return <see langword="null"/> otherwise, and every hook is a null check.
/// </summary>
/// <remarks>
/// The owner of the call starts it before the pipeline sends, so that the runtime's HTTP client spans (one per
/// attempt) nest under the call's Activity, and ends it once (<see cref="End"/>; later calls do nothing). Prompt and
/// answer text are never recorded, nor any header: the key cannot reach a span.
/// </remarks>
internal sealed class CallTelemetry
{
    /// <summary>The library's one ActivitySource; listeners subscribe by name (<see cref="LlmResilienceTelemetry.ActivitySourceName"/>).</summary>
    internal static readonly ActivitySource Source = new(LlmResilienceTelemetry.ActivitySourceName, typeof(CallTelemetry).Assembly.GetName().Version?.ToString());

    private const string InputMessages = "gen_ai.input.messages";
    private const string OutputMessages = "gen_ai.output.messages";

    private static readonly string CancelledErrorType = typeof(OperationCanceledException).FullName!;

    private readonly LlmMetrics _metrics;
    private readonly string _provider;
    private readonly string? _requestModel;
    private readonly Uri? _address;
    private Activity? _activity;
    private string? _responseModel;
    private string? _responseId;
    private string[]? _finishReasons;
    private int? _inputTokens;
    private int? _outputTokens;
    private bool _firstChunk;
    private bool _recordContent;
    private StringBuilder? _streamedText;
    private string? _streamFinishReason;
    private int _ended;

    private CallTelemetry(LlmMetrics metrics, string? requestModel, Uri? address)
    {
        _metrics = metrics;
        _requestModel = requestModel;
        _address = address;
        _provider = GenAiConventions.ProviderOf(address);
    }

    /// <summary>The typed client's call: the request's parameters and the model it goes with.</summary>
    public static CallTelemetry? StartForClient(LlmCall call, LlmMetrics metrics, ChatCompletionRequest request, string? model, Uri address, bool recordContent = false)
    {
        var tracing = Source.HasListeners();
        if (!tracing && !metrics.CallInstrumentsEnabled)
        {
            return null;
        }

        var telemetry = new CallTelemetry(metrics, model, address);
        if (tracing)
        {
            telemetry.StartActivity(call, request);
            if (recordContent && telemetry._activity is { IsAllDataRequested: true } activity)
            {
                // Opt-in only (LlmClientOptions.RecordMessageContent): the conventions' content attributes.
                activity.SetTag(InputMessages, MessageContentJson.Input(request.Messages));
                telemetry._streamedText = call.Stream ? new StringBuilder() : null;
                telemetry._recordContent = true;
            }
        }

        return telemetry;
    }

    /// <summary>
    /// A call under another client (the handler owns it): the model is read from the body when it can be read again
    /// (<paramref name="bodyBuffered"/>, or a byte-array body); the response's model and usage stay unknown.
    /// </summary>
    public static CallTelemetry? StartForHandler(LlmCall call, LlmMetrics metrics, HttpRequestMessage request, bool bodyBuffered)
    {
        var tracing = Source.HasListeners();
        if (!tracing && !metrics.CallInstrumentsEnabled)
        {
            return null;
        }

        var telemetry = new CallTelemetry(metrics,
            bodyBuffered || request.Content is ByteArrayContent or ReadOnlyMemoryContent ? ModelOf(request.Content) : null, request.RequestUri);
        if (tracing)
        {
            telemetry.StartActivity(call, null);
        }

        return telemetry;
    }

    /// <summary>Ends a call the handler owns (the typed client ends its own calls when it disposes them).</summary>
    public static void EndIfOwned(LlmCall call)
    {
        if (call.OwnedByPipeline)
        {
            call.Telemetry?.End(call);
        }
    }

    /// <summary>The Activity of the call, while it runs.</summary>
    public Activity? Activity => _activity;

    /// <summary>A non-streamed answer: what the server says it is and what it cost.</summary>
    public void OnCompletion(ChatCompletion completion)
    {
        _responseId = NullIfEmpty(completion.Id);
        _responseModel = NullIfEmpty(completion.Model);
        var choices = completion.Choices;
        if (choices.Count > 0 && _activity is not null)
        {
            var reasons = new string[choices.Count];
            for (var i = 0; i < reasons.Length; i++)
            {
                reasons[i] = choices[i].FinishReason?.ToString() ?? string.Empty;
            }

            _finishReasons = reasons;
        }

        if (_recordContent)
        {
            _activity?.SetTag(OutputMessages, MessageContentJson.Output(choices));
        }

        OnUsage(completion.Usage);
    }

    /// <summary>A streamed chunk: the first one is the time to first chunk; any may carry the id, model, finish reason and (the last) usage.</summary>
    public void OnChunk(LlmCall call, ChatCompletionChunk chunk)
    {
        if (!_firstChunk)
        {
            _firstChunk = true;
            _responseId = NullIfEmpty(chunk.Id);
            _responseModel = NullIfEmpty(chunk.Model);
            if (_metrics.TimeToFirstChunk.Enabled)
            {
                var tags = Tags(call, errorType: null);
                _metrics.TimeToFirstChunk.Record(call.Time.GetElapsedTime(call.StartTimestamp).TotalSeconds, tags);
            }
        }

        var choices = chunk.Choices;
        for (var i = 0; i < choices.Count; i++)
        {
            if (choices[i].FinishReason is { } reason && _activity is not null)
            {
                _finishReasons = _finishReasons is null ? [reason.ToString()] : [.. _finishReasons, reason.ToString()];
                _streamFinishReason ??= choices[i].Index == 0 ? reason.ToString() : null;
            }

            if (_streamedText is not null && choices[i].Index == 0 && choices[i].Delta.Content is { } delta)
            {
                _streamedText.Append(delta);
            }
        }

        OnUsage(chunk.Usage);
    }

    /// <summary>The retry strategy decided to try again (after <paramref name="delay"/>, or at once on another endpoint).</summary>
    public void OnRetry(LlmAttempt attempt, TimeSpan delay, EndpointTarget? next)
    {
        var source = attempt.Decision?.Source ?? RetryDelaySource.None;
        if (_metrics.RetryDelay.Enabled)
        {
            _metrics.RetryDelay.Record(delay.TotalSeconds, new KeyValuePair<string, object?>(GenAiConventions.RetrySource, GenAiConventions.Describe(source)),
                new KeyValuePair<string, object?>(LlmResilienceTelemetry.EndpointTagName, attempt.Endpoint.Name));
        }

        if (_activity is not { IsAllDataRequested: true } activity)
        {
            return;
        }

        var tags = new ActivityTagsCollection
        {
            { GenAiConventions.Attempt, attempt.Number },
            { LlmResilienceTelemetry.EndpointTagName, attempt.Endpoint.Name },
            { GenAiConventions.FailureKind, attempt.Failure?.Kind.ToString() },
            { GenAiConventions.RetrySource, GenAiConventions.Describe(source) },
            { GenAiConventions.RetryDelayMs, (long)delay.TotalMilliseconds },
        };
        if (attempt.StatusCode is { } status)
        {
            tags.Add(GenAiConventions.HttpStatusCode, status);
        }

        if (attempt.RequestId is { } requestId)
        {
            tags.Add(GenAiConventions.RequestId, requestId);
        }

        if (source == RetryDelaySource.Failover && next is not null)
        {
            tags.Add(GenAiConventions.FailoverTo, next.Name);
        }

        var name = source switch
        {
            RetryDelaySource.Failover => GenAiConventions.FailoverEvent,
            RetryDelaySource.EndpointCooldown => GenAiConventions.EndpointWaitEvent,
            _ => GenAiConventions.RetryEvent,
        };
        activity.AddEvent(new ActivityEvent(name, tags: tags));
    }

    /// <summary>No endpoint was available for the next attempt: the call waits <paramref name="delay"/> for the first to come back.</summary>
    public void OnEndpointWait(TimeSpan delay, string availability)
    {
        if (_metrics.RetryDelay.Enabled)
        {
            _metrics.RetryDelay.Record(delay.TotalSeconds, new KeyValuePair<string, object?>(GenAiConventions.RetrySource, GenAiConventions.Describe(RetryDelaySource.EndpointCooldown)));
        }

        _activity?.AddEvent(new ActivityEvent(GenAiConventions.EndpointWaitEvent, tags: new ActivityTagsCollection
        {
            { GenAiConventions.RetrySource, GenAiConventions.Describe(RetryDelaySource.EndpointCooldown) },
            { GenAiConventions.RetryDelayMs, (long)delay.TotalMilliseconds },
            { GenAiConventions.Availability, availability },
        }));
    }

    /// <summary>A hedged attempt started after <paramref name="after"/> without an answer.</summary>
    public void OnHedge(TimeSpan after, string? endpoint) =>
        _activity?.AddEvent(new ActivityEvent("llm.hedge", tags: new ActivityTagsCollection
        {
            { GenAiConventions.RetryDelayMs, (long)after.TotalMilliseconds },
            { LlmResilienceTelemetry.EndpointTagName, endpoint },
        }));

    /// <summary>Pacing held the call for <paramref name="wait"/> before it could be sent to <paramref name="endpoint"/>.</summary>
    public void OnPacingWait(TimeSpan wait, string endpoint) =>
        _activity?.AddEvent(new ActivityEvent("llm.pacing.wait", tags: new ActivityTagsCollection
        {
            { GenAiConventions.RetryDelayMs, (long)wait.TotalMilliseconds },
            { LlmResilienceTelemetry.EndpointTagName, endpoint },
        }));

    /// <summary>Ends the call (once): the metrics from its record, then the Activity's last attributes, status and end.</summary>
    public void End(LlmCall call)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        var failure = call.Failure;
        var errorType = failure is not null ? failure.Kind.ToString()
            : call.CancellationToken.IsCancellationRequested ? CancelledErrorType
            : null;
        var tags = Tags(call, errorType);
        var metrics = _metrics;
        if (metrics.OperationDuration.Enabled)
        {
            metrics.OperationDuration.Record(call.Time.GetElapsedTime(call.StartTimestamp).TotalSeconds, tags);
        }

        if (metrics.TokenUsage.Enabled)
        {
            RecordTokens(tags, _inputTokens, GenAiConventions.Input);
            RecordTokens(tags, _outputTokens, GenAiConventions.Output);
        }

        var attempts = metrics.Attempts.Enabled || metrics.StreamStalls.Enabled || _activity is not null ? call.Attempts : [];
        RecordAttempts(attempts);
        RecordStalls(failure, attempts);
        if (_activity is { } activity)
        {
            EndActivity(activity, call, attempts, failure, errorType);
        }
    }

    private void StartActivity(LlmCall call, ChatCompletionRequest? request)
    {
        var name = _requestModel is null ? GenAiConventions.Chat : GenAiConventions.Chat + " " + _requestModel;
        var tags = new ActivityTagsCollection
        {
            { GenAiConventions.OperationName, GenAiConventions.Chat },
            { GenAiConventions.ProviderName, _provider },
        };
        if (_requestModel is not null)
        {
            tags.Add(GenAiConventions.RequestModel, _requestModel);
        }

        if (_address is { IsAbsoluteUri: true } address)
        {
            tags.Add(GenAiConventions.ServerAddress, address.Host);
            tags.Add(GenAiConventions.ServerPort, address.Port);
        }

        // Started as a child of the caller's current Activity, and current from here: the attempts' HTTP spans nest under it.
        var activity = Source.StartActivity(name, ActivityKind.Client, parentContext: default, tags);
        if (activity is null)
        {
            return;
        }

        _activity = activity;
        if (activity.IsAllDataRequested && request is not null)
        {
            SetIfPresent(activity, GenAiConventions.Temperature, request.Temperature);
            SetIfPresent(activity, GenAiConventions.TopP, request.TopP);
            SetIfPresent(activity, GenAiConventions.MaxTokens, request.MaxCompletionTokens ?? request.MaxTokens);
            SetIfPresent(activity, GenAiConventions.FrequencyPenalty, request.FrequencyPenalty);
            SetIfPresent(activity, GenAiConventions.PresencePenalty, request.PresencePenalty);
            SetIfPresent(activity, GenAiConventions.Seed, request.Seed);
            if (request.N is { } n and not 1)
            {
                activity.SetTag(GenAiConventions.ChoiceCount, n);
            }

            if (request.Stop is { Count: > 0 } stop)
            {
                activity.SetTag(GenAiConventions.StopSequences, stop.ToArray());
            }
        }

        if (call.ClientName is { } client)
        {
            activity.SetTag("llm.client", client);
        }
    }

    private void EndActivity(Activity activity, LlmCall call, IReadOnlyList<LlmAttempt> attempts, LlmException? failure, string? errorType)
    {
        var last = attempts.Count == 0 ? null : attempts[^1];
        if (activity.IsAllDataRequested)
        {
            if (last is not null)
            {
                activity.SetTag(LlmResilienceTelemetry.EndpointTagName, last.Endpoint.Name);
                if (last.RequestUri is { IsAbsoluteUri: true } uri)
                {
                    activity.SetTag(GenAiConventions.ServerAddress, uri.Host);
                    activity.SetTag(GenAiConventions.ServerPort, uri.Port);
                }

                if (last.StatusCode is { } status)
                {
                    activity.SetTag(GenAiConventions.HttpStatusCode, status);
                }

                if (last.RequestId is { } requestId)
                {
                    activity.SetTag(GenAiConventions.RequestId, requestId);
                }
            }

            activity.SetTag(GenAiConventions.AttemptCount, attempts.Count);
            SetIfPresent(activity, GenAiConventions.ResponseModel, _responseModel);
            SetIfPresent(activity, GenAiConventions.ResponseId, _responseId);
            if (_finishReasons is not null)
            {
                activity.SetTag(GenAiConventions.FinishReasons, _finishReasons);
            }

            if (_streamedText is not null && _streamedText.Length > 0)
            {
                activity.SetTag(OutputMessages, MessageContentJson.Output(_streamedText.ToString(), _streamFinishReason));
            }

            SetIfPresent(activity, GenAiConventions.InputTokens, _inputTokens);
            SetIfPresent(activity, GenAiConventions.OutputTokens, _outputTokens);
        }

        if (errorType is not null)
        {
            activity.SetTag(GenAiConventions.ErrorType, errorType);
            activity.SetStatus(ActivityStatusCode.Error, failure?.Message ?? "The caller cancelled the call.");
        }

        activity.Stop();
        _activity = null;
    }

    private TagList Tags(LlmCall call, string? errorType)
    {
        var tags = new TagList
        {
            { GenAiConventions.OperationName, GenAiConventions.Chat },
            { GenAiConventions.ProviderName, _provider },
        };
        if (_requestModel is not null)
        {
            tags.Add(GenAiConventions.RequestModel, _requestModel);
        }

        if (_responseModel is not null)
        {
            tags.Add(GenAiConventions.ResponseModel, _responseModel);
        }

        var last = call.LastAttempt;
        if ((last?.RequestUri ?? _address) is { IsAbsoluteUri: true } address)
        {
            tags.Add(GenAiConventions.ServerAddress, address.Host);
            tags.Add(GenAiConventions.ServerPort, address.Port);
        }

        if (last is not null)
        {
            tags.Add(LlmResilienceTelemetry.EndpointTagName, last.Endpoint.Name);
        }

        if (errorType is not null)
        {
            tags.Add(GenAiConventions.ErrorType, errorType);
        }

        return tags;
    }

    private void RecordTokens(TagList tags, int? tokens, string type)
    {
        if (tokens is { } count)
        {
            tags.Add(GenAiConventions.TokenType, type);
            _metrics.TokenUsage.Record(count, tags);
        }
    }

    private void RecordAttempts(IReadOnlyList<LlmAttempt> attempts)
    {
        if (!_metrics.Attempts.Enabled)
        {
            return;
        }

        foreach (var attempt in attempts)
        {
            var tags = new TagList
            {
                { GenAiConventions.AttemptOutcome, GenAiConventions.Describe(attempt.End) },
                { LlmResilienceTelemetry.EndpointTagName, attempt.Endpoint.Name },
            };
            if (attempt.End != AttemptEnd.Succeeded && attempt.Failure is { } failure)
            {
                tags.Add(GenAiConventions.FailureKind, failure.Kind.ToString());
            }

            _metrics.Attempts.Add(1, tags);
        }
    }

    private void RecordStalls(LlmException? failure, IReadOnlyList<LlmAttempt> attempts)
    {
        if (!_metrics.StreamStalls.Enabled)
        {
            return;
        }

        foreach (var attempt in attempts)
        {
            if (attempt.Failure?.Exception is LlmException { Stall: { } stall })
            {
                _metrics.StreamStalls.Add(1, new KeyValuePair<string, object?>(GenAiConventions.Stall, stall),
                    new KeyValuePair<string, object?>(LlmResilienceTelemetry.EndpointTagName, attempt.Endpoint.Name));
            }
        }

        // A stall after the first event ends the call (it is never retried): the client's failure wraps the guard's.
        if ((failure?.Stall ?? (failure?.InnerException as LlmException)?.Stall) is { } afterFirst && afterFirst != StreamStalls.FirstEvent)
        {
            _metrics.StreamStalls.Add(1, new KeyValuePair<string, object?>(GenAiConventions.Stall, afterFirst),
                new KeyValuePair<string, object?>(LlmResilienceTelemetry.EndpointTagName, attempts.Count == 0 ? null : attempts[^1].Endpoint.Name));
        }
    }

    private void OnUsage(ChatUsage? usage)
    {
        if (usage is not null)
        {
            _inputTokens = usage.PromptTokens;
            _outputTokens = usage.CompletionTokens;
        }
    }

    private static void SetIfPresent<T>(Activity activity, string name, T? value)
        where T : struct
    {
        if (value is { } v)
        {
            activity.SetTag(name, v);
        }
    }

    private static void SetIfPresent(Activity activity, string name, string? value)
    {
        if (value is not null)
        {
            activity.SetTag(name, value);
        }
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>The top-level <c>"model"</c> of a buffered JSON body another client built, when something listens; <see langword="null"/> when there is none or the body is not JSON.</summary>
    internal static string? ModelOf(HttpContent? content)
    {
        if (content is null || content.Headers.ContentLength is not (> 0 and < 4 * 1024 * 1024) || !MediaTypes.IsJsonOrAbsent(content))
        {
            return null;
        }

        var length = (int)content.Headers.ContentLength.Value;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            // The body is buffered (the handler buffers any non-replayable body before the first attempt): a copy, no I/O.
            using var stream = content.ReadAsStream();
            var read = 0;
            int n;
            while (read < length && (n = stream.Read(buffer, read, length - read)) > 0)
            {
                read += n;
            }

            var reader = new Utf8JsonReader(buffer.AsSpan(0, read));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isModel)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }

            return null;
        }
        catch (Exception exception) when (exception is JsonException or IOException or InvalidOperationException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
