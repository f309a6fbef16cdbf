using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LlmResilience.Chat;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LlmResilience;

/// <summary>
/// The typed Chat Completions client over the LlmResilience pipeline. Register it with
/// <c>services.AddChatCompletionsClient(...)</c>, or build one without DI with <see cref="Create"/>.
/// </summary>
/// <remarks>Thread-safe; meant to be long-lived (one per endpoint), as its connections are pooled and recycled.</remarks>
public sealed class ChatCompletionsClient : IChatCompletionsClient, IDisposable
{
    private static readonly ChatCompletionChunk SkipChunk = new();

    private readonly HttpMessageInvoker _sender;
    private readonly IDisposable? _owned;
    private readonly Uri _baseAddress;
    private readonly Uri _endpoint;
    private readonly string? _name;
    private readonly string? _defaultModel;
    private readonly string? _apiKey;
    private readonly string? _authorization;
    private readonly string? _authorizationHeader;
    private readonly LlmResilienceOptions _resilience;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LlmMetrics _metrics;
    private readonly IEndpointSelector _selector;
    private readonly bool _recordContent;

    /// <param name="sender">The handler chain the calls go through: an <see cref="HttpClient"/> when its own settings must
    /// apply (see <see cref="Microsoft.Extensions.DependencyInjection.LlmResilienceServiceCollectionExtensions"/>), else an
    /// invoker straight into the chain.</param>
    /// <param name="options">The client's options (validated).</param>
    /// <param name="name">The client's name (<see langword="null"/> for the default client).</param>
    /// <param name="services">The clock, logger, metrics and endpoint state.</param>
    /// <param name="owned">Disposed with the client.</param>
    /// <param name="selector">Where each attempt goes; the default is the options' endpoints.</param>
    internal ChatCompletionsClient(HttpMessageInvoker sender, LlmClientOptions options, string? name, ClientServices services, IDisposable? owned,
        IEndpointSelector? selector = null)
    {
        _sender = sender;
        _owned = owned;
        _name = string.IsNullOrEmpty(name) ? null : name;
        _baseAddress = options.BaseAddress!;
        _endpoint = EndpointTargets.Under(_baseAddress, "chat/completions");
        _defaultModel = options.Model;
        _apiKey = options.ApiKey;
        // Kept as the raw header value: added without parsing, copied to every attempt without formatting. With
        // endpoints, each carries its own credential instead.
        if (!string.IsNullOrEmpty(options.ApiKey) && options.Endpoints is not { Count: > 0 })
        {
            _authorizationHeader = EndpointTargets.HeaderFor(LlmApiKeyStyle.Auto, _baseAddress, fromProvider: false);
            _authorization = _authorizationHeader == EndpointTarget.AuthorizationHeader ? "Bearer " + options.ApiKey : options.ApiKey;
        }

        _resilience = options.Resilience;
        _recordContent = options.RecordMessageContent;
        _time = services.Time;
        _logger = services.Logger;
        _metrics = services.Metrics;
        _selector = selector ?? EndpointTargets.ForClient(options, services.EndpointStates, services.Time, services.Logger, services.Metrics);
    }

    /// <summary>Gets the API base the client calls, for <c>ChatClientMetadata</c>.</summary>
    internal Uri BaseAddress => _baseAddress;

    /// <summary>Gets the model used when a request names none, for <c>ChatClientMetadata</c>.</summary>
    internal string? DefaultModel => _defaultModel;

    /// <summary>Builds a client without dependency injection, for console apps and scripts. Dispose it when done.</summary>
    /// <param name="options">Where to call and how; validated here (a copy is taken, later changes have no effect).</param>
    /// <param name="loggerFactory">Receives the retry log; <see langword="null"/> logs nothing.</param>
    /// <param name="timeProvider">The clock of every timeout and delay; <see langword="null"/> is the system clock.</param>
    /// <returns>A client that owns its connections.</returns>
    /// <exception cref="OptionsValidationException">The options are invalid; the message says how to fix each problem.</exception>
    public static ChatCompletionsClient Create(LlmClientOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var copy = new LlmClientOptions
        {
            BaseAddress = options.BaseAddress,
            ApiKey = options.ApiKey,
            Model = options.Model,
            AllowInsecureHttp = options.AllowInsecureHttp,
            RecordMessageContent = options.RecordMessageContent,
            Endpoints = options.Endpoints is null ? null! : [.. options.Endpoints.Select(static e => e?.Copy()!)],
            Resilience = new LlmResilienceOptions(),
        };
        if (options.Resilience is null)
        {
            copy.Resilience = null!;
        }
        else
        {
            options.Resilience.CopyTo(copy.Resilience);
        }

        copy.ApplyDefaults();
        var failures = new List<string>();
        LlmOptionsValidation.Validate(copy, failures);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(LlmClientOptions), failures);
        }

        var logger = (ILogger?)loggerFactory?.CreateLogger(Microsoft.Extensions.DependencyInjection.LlmResilienceHttpClientBuilderExtensions.LoggerCategory) ?? NullLogger.Instance;
        var metrics = new LlmMetrics(null);
        var services = new ClientServices(timeProvider ?? TimeProvider.System, logger, metrics, new InMemoryEndpointStateStore());
        var handler = new LlmResilienceHandler(copy.Resilience, services.Time, logger, metrics, services.EndpointStates)
        {
            InnerHandler = new RecyclingConnectionHandler(copy.Resilience, logger, metrics: metrics),
        };
        var invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        return new ChatCompletionsClient(invoker, copy, null, services, new Owned(invoker, metrics));
    }

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The common call takes no options; the overload with them takes a CancellationToken explicitly.")]
    public Task<ChatCompletion> CompleteAsync(ChatCompletionRequest request, CancellationToken cancellationToken = default) =>
        CompleteCoreAsync(request, null, cancellationToken);

    /// <inheritdoc />
    public Task<ChatCompletion> CompleteAsync(ChatCompletionRequest request, LlmRequestOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(_resilience);
        return CompleteCoreAsync(request, options, cancellationToken);
    }

    private async Task<ChatCompletion> CompleteCoreAsync(ChatCompletionRequest request, LlmRequestOptions? options, CancellationToken cancellationToken)
    {
        var model = Prepare(request);
        using var call = NewCall(request, model, stream: false, options);
        using var message = CreateMessage(call, request, model, stream: false, options);
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception)
        {
            throw Failed(call, exception);
        }

        using var responseScope = response;
        if (!response.IsSuccessStatusCode)
        {
            throw Failed(call, await FromErrorResponseAsync(call, response, cancellationToken).ConfigureAwait(false));
        }

        var requestId = call.LastAttempt?.RequestId ?? ResponseHeaders.RequestIdOf(response);
        if (!MediaTypes.IsJsonOrAbsent(response.Content))
        {
            throw Invalid(call, $"The response from {Where(call)} is {MediaTypes.Describe(response.Content)}, not JSON: a proxy or captive portal may have answered instead of the API. Check BaseAddress.", requestId, null);
        }

        ChatCompletion? completion;
        try
        {
            if (response.Content is BufferedBodyContent buffered)
            {
                // The pipeline read the body whole inside the attempt: parse the bytes where they are, synchronously.
                completion = JsonSerializer.Deserialize(buffered.Bytes, LlmJsonContext.Default.ChatCompletion);
            }
            else
            {
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    completion = await JsonSerializer.DeserializeAsync(stream, LlmJsonContext.Default.ChatCompletion, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (JsonException exception)
        {
            throw Invalid(call, $"The response from {Where(call)} is not valid chat.completion JSON ({exception.Message}).", requestId, exception);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // Only without the pipeline (it reads the body inside the attempt): the body broke while it was read here.
            throw Failed(call, exception);
        }

        if (completion is null)
        {
            throw Invalid(call, $"The response from {Where(call)} is JSON null, not a chat.completion.", requestId, null);
        }

        if (ResponseShape.ProblemOf(completion) is { } problem)
        {
            throw Invalid(call, ResponseShape.Describe(Where(call), problem, requestId), requestId, null);
        }

        completion.RequestId = requestId;
        completion.Endpoint = call.LastAttempt?.Endpoint.Name;
        if (call.ChargedTokens is { } charged && completion.Usage is { TotalTokens: > 0 } usage)
        {
            // Pacing took an estimate; the answer says what the call cost.
            call.LastAttempt?.Endpoint.State?.Pacer?.Correct(charged, usage.TotalTokens, call.ChargedShared);
        }

        call.Telemetry?.OnCompletion(completion); // telemetry: response id, model, finish reasons, usage
        return completion;
    }

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The common call takes no options; the overload with them takes a CancellationToken explicitly.")]
    public IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ChatCompletionRequest request, CancellationToken cancellationToken = default)
    {
        // Validated now, not at the first MoveNextAsync: a request that cannot be valid fails where it is made. The
        // message is built when the enumeration starts, once per enumeration: a stream never enumerated sends nothing
        // and holds no buffer, and enumerating twice sends the request twice.
        var model = Prepare(request);
        return StreamCoreAsync(request, model, null, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ChatCompletionRequest request, LlmRequestOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(_resilience);
        var model = Prepare(request);
        return StreamCoreAsync(request, model, options, cancellationToken);
    }

    /// <summary>Releases the connections when this client created them (<see cref="Create"/>).</summary>
    public void Dispose() => _owned?.Dispose();

    private async IAsyncEnumerable<ChatCompletionChunk> StreamCoreAsync(ChatCompletionRequest request, string model, LlmRequestOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = NewCall(request, model, stream: true, options);
        using var message = CreateMessage(call, request, model, stream: true, options);
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception)
        {
            throw Failed(call, exception);
        }

        using var responseScope = response;
        if (!response.IsSuccessStatusCode)
        {
            throw Failed(call, await FromErrorResponseAsync(call, response, cancellationToken).ConfigureAwait(false));
        }

        var requestId = call.LastAttempt?.RequestId ?? ResponseHeaders.RequestIdOf(response);
        if (!MediaTypes.IsEventStream(response.Content))
        {
            throw Invalid(call, $"The streamed response from {Where(call)} is {MediaTypes.Describe(response.Content)}, not text/event-stream. Check that the endpoint supports \"stream\": true.", requestId, null);
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var streamScope = stream.ConfigureAwait(false);
        var enumerator = SseParser.Create(stream, static (_, data) => ParseChunk(data)).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using var enumeratorScope = enumerator.ConfigureAwait(false);

        var text = default(PartialText); // pooled; turned into a string only if the stream breaks
        try
        {
            var chunks = 0;
            var finished = false;
            var done = false;
            while (true)
            {
                ChatCompletionChunk? chunk;
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }

                    chunk = enumerator.Current.Data;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (JsonException exception)
                {
                    throw Invalid(call, $"Event {chunks + 1} of the stream from {Where(call)} is not valid chat.completion.chunk JSON ({exception.Message}).",
                        requestId, exception, text.ToString());
                }
                catch (Exception exception) when (exception is LlmException or IOException or HttpRequestException or ObjectDisposedException)
                {
                    throw Interrupted(call, exception, requestId, chunks, text.ToString());
                }

                if (chunk is null)
                {
                    done = true;
                    break;
                }

                if (ReferenceEquals(chunk, SkipChunk))
                {
                    continue;
                }

                chunks++;
                chunk.RequestId = requestId;
                chunk.Endpoint = call.LastAttempt?.Endpoint.Name;
                if (chunk.Usage is { TotalTokens: > 0 } usage && call.ChargedTokens is { } charged)
                {
                    call.LastAttempt?.Endpoint.State?.Pacer?.Correct(charged, usage.TotalTokens, call.ChargedShared);
                    call.ChargedTokens = null;
                }

                call.Telemetry?.OnChunk(call, chunk); // telemetry: time to first chunk, response id, model, finish reasons, usage
                var choices = chunk.Choices;
                for (var i = 0; i < choices.Count; i++)
                {
                    var choice = choices[i];
                    if (choice.Delta?.Content is { Length: > 0 } delta && choice.Index == 0)
                    {
                        text.Append(delta);
                    }

                    finished |= choice.FinishReason is not null;
                }

                yield return chunk;
            }

            if (!done && !finished)
            {
                throw Interrupted(call, new IOException("The stream ended without [DONE] and without a finish_reason."), requestId, chunks, text.ToString());
            }
        }
        finally
        {
            text.Dispose();
        }
    }

    /// <summary>
    /// Through the <see cref="HttpClient"/> when there is one (headers read, not the body), else straight into the handler
    /// chain: without HttpClient's own async frame, and without its token for pending requests, which every call in
    /// flight would otherwise link to (one contended source across all callers).
    /// </summary>
    private Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken) =>
        _sender is HttpClient httpClient
            ? httpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
            : _sender.SendAsync(message, cancellationToken);

    /// <summary>The address the answer came from (the last attempt's), for messages.</summary>
    private string Where(LlmCall call) => Endpoints.Describe(call.LastAttempt?.RequestUri ?? _endpoint);

    private LlmCall NewCall(ChatCompletionRequest request, string model, bool stream, LlmRequestOptions? options)
    {
        var call = new LlmCall(_name, _time, options?.TotalTimeout ?? _resilience.TotalTimeout, ownedByPipeline: false)
        {
            ChatRequest = request,
            RequestModel = model,
            Stream = stream,
            OriginBase = _baseAddress,
            Selector = _selector,
            Secret = _apiKey,
            MaxRetryAttempts = options?.MaxRetryAttempts,
            AttemptTimeout = options?.AttemptTimeout,
            OwnTotalTimeout = options?.TotalTimeout is not null,
        };
        // Telemetry: the call's Activity starts here, before the pipeline sends, and stays current in the caller's method
        // (this one is synchronous), so the attempts' HTTP spans nest under it; it ends when the call is disposed.
        call.Telemetry = CallTelemetry.StartForClient(call, _metrics, request, model, _endpoint, _recordContent);
        return call;
    }

    private HttpRequestMessage CreateMessage(LlmCall call, ChatCompletionRequest request, string model, bool stream, LlmRequestOptions? options)
    {
        var message = new CallRequestMessage(HttpMethod.Post, _endpoint, call)
        {
            Content = JsonRequestContent.Create(request, model, stream, LlmJsonContext.Relaxed.Options),
        };
        if (_authorization is not null)
        {
            message.Headers.TryAddWithoutValidation(_authorizationHeader!, _authorization);
        }

        if (stream)
        {
            message.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        }

        if (options is not null)
        {
            foreach (var (name, value) in options.Headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    /// <summary>Records the call's failure once and reports it (the failure counter, the "gave up" log line).</summary>
    private LlmException Failed(LlmCall call, Exception exception)
    {
        var failure = exception switch
        {
            // The pipeline's verdict on this call (it also recorded it), or one raised on the way (a stream guard).
            LlmException llm => call.Fail(llm),
            // No pipeline under this client: the exception is the only attempt's outcome.
            _ => call.Fail(WithoutPipeline(call, exception)),
        };
        CallReporting.Complete(call, _logger, _metrics);
        return failure;
    }

    private LlmException WithoutPipeline(LlmCall call, Exception exception)
    {
        var attempt = call.StartAttempt(_selector.Select(call) ?? new EndpointTarget(Endpoints.Describe(_baseAddress)));
        attempt.RequestUri = _endpoint;
        attempt.Fail(LlmFailures.FromException(exception), _time);
        return LlmFailures.ToException(call, _resilience);
    }

    private async Task<LlmException> FromErrorResponseAsync(LlmCall call, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (call.LastAttempt?.Failure is null)
        {
            // No pipeline under this client: classify the answer here, through the same factory.
            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException)
            {
                body = [];
            }

            var attempt = call.StartAttempt(_selector.Select(call) ?? new EndpointTarget(Endpoints.Describe(_baseAddress)));
            attempt.RequestUri = _endpoint;
            attempt.OnResponse(response);
            attempt.Fail(LlmFailures.FromResponse(response, body, _time.GetUtcNow(), _apiKey), _time);
        }

        return LlmFailures.ToException(call, _resilience);
    }

    private LlmException Interrupted(LlmCall call, Exception cause, string? requestId, int chunks, string partialContent)
    {
        var reason = cause switch
        {
            LlmException llm => llm.Message,
            HttpRequestException http => TransportFailures.Describe(http) + ".",
            _ => cause.Message,
        };
        if (_logger.IsEnabled(LogLevel.Warning))
        {
            Log.StreamInterrupted(_logger, CallReporting.ClientName(call), Where(call), chunks, cause.GetType().Name, requestId);
        }

        return Failed(call, LlmFailures.AfterResponse(call, LlmFailureKind.StreamInterrupted,
            $"The stream from {Where(call)} broke after {chunks} chunk(s) had been delivered: {reason} It was not retried, since that would repeat output; PartialContent holds the text received. Retry the call if a complete answer is needed.",
            cause, requestId, partialContent));
    }

    private LlmException Invalid(LlmCall call, string message, string? requestId, Exception? inner, string? partialContent = null) =>
        Failed(call, LlmFailures.AfterResponse(call, LlmFailureKind.InvalidResponse, message, inner, requestId, partialContent));

    private static ChatCompletionChunk? ParseChunk(ReadOnlySpan<byte> data)
    {
        var trimmed = data.Trim(" \r\n\t"u8);
        if (trimmed.Length == 0)
        {
            return SkipChunk;
        }

        if (trimmed.SequenceEqual("[DONE]"u8))
        {
            return null;
        }

        return JsonSerializer.Deserialize(trimmed, LlmJsonContext.Default.ChatCompletionChunk) is { } chunk ? ResponseShape.Checked(chunk) : SkipChunk;
    }

    /// <summary>Checks the request and returns the model it goes with (its own, else the client's). The caller's object is never changed or copied.</summary>
    private string Prepare(ChatCompletionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Messages is null || request.Messages.Count == 0)
        {
            throw new ArgumentException("The request has no messages: add at least one, such as ChatMessage.User(\"...\").", nameof(request));
        }

        for (var i = 0; i < request.Messages.Count; i++)
        {
            if (request.Messages[i] is null)
            {
                throw new ArgumentException($"Message {i} of the request is null.", nameof(request));
            }
        }

        var model = string.IsNullOrWhiteSpace(request.Model) ? _defaultModel : request.Model;
        if (string.IsNullOrWhiteSpace(model))
        {
            throw new ArgumentException("The request names no model and LlmClientOptions.Model is not set: set one of them, such as \"gpt-4o-mini\".", nameof(request));
        }

        return model;
    }

    /// <summary>What a client shares with its pipeline: the clock, the log, the instruments and the endpoint state.</summary>
    internal sealed record ClientServices(TimeProvider Time, ILogger Logger, LlmMetrics Metrics, IEndpointStateStore EndpointStates);

    private sealed class Owned(HttpMessageInvoker invoker, LlmMetrics metrics) : IDisposable
    {
        public void Dispose()
        {
            invoker.Dispose();
            metrics.Dispose();
        }
    }
}
