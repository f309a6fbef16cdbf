using System.Net;
using System.Net.Http.Headers;
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

    private readonly HttpClient _httpClient;
    private readonly bool _ownsHttpClient;
    private readonly Uri _endpoint;
    private readonly string? _defaultModel;
    private readonly string? _apiKey;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly LlmResilienceOptions _resilience;
    private readonly ILogger _logger;

    internal ChatCompletionsClient(HttpClient httpClient, LlmClientOptions options, ILogger logger, bool ownsHttpClient)
    {
        _httpClient = httpClient;
        _ownsHttpClient = ownsHttpClient;
        _endpoint = new Uri(options.BaseAddress!, "chat/completions");
        _defaultModel = options.Model;
        _apiKey = options.ApiKey;
        _authorization = string.IsNullOrEmpty(options.ApiKey) ? null : new AuthenticationHeaderValue("Bearer", options.ApiKey);
        _resilience = options.Resilience;
        _logger = logger;
    }

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

        var logger = (ILogger?)loggerFactory?.CreateLogger("LlmResilience") ?? NullLogger.Instance;
        var handler = new LlmResilienceHandler(copy.Resilience, timeProvider ?? TimeProvider.System, logger)
        {
            InnerHandler = new RecyclingConnectionHandler(copy.Resilience, logger),
        };
        var httpClient = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        return new ChatCompletionsClient(httpClient, copy, logger, ownsHttpClient: true);
    }

    /// <inheritdoc />
    public async Task<ChatCompletion> CompleteAsync(ChatCompletionRequest request, CancellationToken cancellationToken = default)
    {
        using var message = CreateRequestMessage(request, stream: false);
        HttpResponseMessage response;
        try
        {
            response = await _httpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception) when (exception is not LlmException)
        {
            throw WithoutPipeline(exception);
        }

        using var responseScope = response;
        if (!response.IsSuccessStatusCode)
        {
            throw Recorded(await LlmErrorMapper.FromResponseAsync(response, message, _resilience, _apiKey, cancellationToken).ConfigureAwait(false));
        }

        var requestId = RequestIdOf(response);
        if (!MediaTypes.IsJsonOrAbsent(response.Content))
        {
            throw Invalid($"The response from {Endpoints.Describe(_endpoint)} is {MediaTypes.Describe(response.Content)}, not JSON: a proxy or captive portal may have answered instead of the API. Check BaseAddress.", requestId, null);
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
            throw Invalid($"The response from {Endpoints.Describe(_endpoint)} is not valid chat.completion JSON ({exception.Message}).", requestId, exception);
        }

        if (completion is null)
        {
            throw Invalid($"The response from {Endpoints.Describe(_endpoint)} is JSON null, not a chat.completion.", requestId, null);
        }

        completion.RequestId = requestId;
        return completion;
    }

    /// <inheritdoc />
    public IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ChatCompletionRequest request, CancellationToken cancellationToken = default)
    {
        // Validated now, not at the first MoveNextAsync: a request that cannot be valid fails where it is made.
        var message = CreateRequestMessage(request, stream: true);
        return StreamCoreAsync(message, cancellationToken);
    }

    /// <summary>Releases the connections when this client created them (<see cref="Create"/>).</summary>
    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _httpClient.Dispose();
        }
    }

    private async IAsyncEnumerable<ChatCompletionChunk> StreamCoreAsync(HttpRequestMessage message, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var requestMessage = message;
        HttpResponseMessage response;
        try
        {
            response = await _httpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception) when (exception is not LlmException)
        {
            throw WithoutPipeline(exception);
        }

        using var responseScope = response;
        if (!response.IsSuccessStatusCode)
        {
            throw Recorded(await LlmErrorMapper.FromResponseAsync(response, message, _resilience, _apiKey, cancellationToken).ConfigureAwait(false));
        }

        var requestId = RequestIdOf(response);
        if (!MediaTypes.IsEventStream(response.Content))
        {
            throw Invalid($"The streamed response from {Endpoints.Describe(_endpoint)} is {MediaTypes.Describe(response.Content)}, not text/event-stream. Check that the endpoint supports \"stream\": true.", requestId, null);
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
                    throw new LlmException(LlmFailureKind.InvalidResponse,
                        $"Event {chunks + 1} of the stream from {Endpoints.Describe(_endpoint)} is not valid chat.completion.chunk JSON ({exception.Message}).", exception, HttpStatusCode.OK)
                    { RequestId = requestId, PartialContent = text.ToString(), Attempts = 1 };
                }
                catch (Exception exception) when (exception is LlmException or IOException or HttpRequestException or ObjectDisposedException)
                {
                    throw Interrupted(exception, requestId, chunks, text.ToString());
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
                throw Interrupted(new IOException("The stream ended without [DONE] and without a finish_reason."), requestId, chunks, text.ToString());
            }
        }
        finally
        {
            text.Dispose();
        }
    }

    private LlmException Recorded(LlmException exception)
    {
        LlmResilienceTelemetry.RecordFailure(exception.Kind, _endpoint);
        return exception;
    }

    private LlmException Interrupted(Exception cause, string? requestId, int chunks, string partialContent)
    {
        LlmResilienceTelemetry.RecordFailure(LlmFailureKind.StreamInterrupted, _endpoint);
        var reason = cause switch
        {
            LlmException llm => llm.Message,
            HttpRequestException http => FailureClassifier.Describe(http) + ".",
            _ => cause.Message,
        };
        Log.StreamInterrupted(_logger, Endpoints.Describe(_endpoint), chunks, cause.GetType().Name, requestId);
        return new LlmException(LlmFailureKind.StreamInterrupted,
            $"The stream from {Endpoints.Describe(_endpoint)} broke after {chunks} chunk(s) had been delivered: {reason} It was not retried, since that would repeat output; PartialContent holds the text received. Retry the call if a complete answer is needed.",
            cause, HttpStatusCode.OK)
        {
            RequestId = requestId,
            PartialContent = partialContent,
            Attempts = 1,
        };
    }

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

        return JsonSerializer.Deserialize(trimmed, LlmJsonContext.Default.ChatCompletionChunk) ?? SkipChunk;
    }

    // Only reachable when the client runs over an HttpClient without the LlmResilience handler. Inlined at both call
    // sites rather than wrapped in an async helper: one async frame less per call.
    private LlmException WithoutPipeline(HttpRequestException exception)
    {
        var (kind, _) = FailureClassifier.Classify(exception);
        return new LlmException(kind, $"The call to {Endpoints.Describe(_endpoint)} failed: {FailureClassifier.Describe(exception)}.", exception) { Attempts = 1 };
    }

    private HttpRequestMessage CreateRequestMessage(ChatCompletionRequest request, bool stream)
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

        var wire = request.ForWire(model, stream);
        var message = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = JsonRequestContent.Create(wire, LlmJsonContext.Relaxed.ChatCompletionRequest),
        };
        message.Headers.Authorization = _authorization;
        if (stream)
        {
            message.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        }

        return message;
    }

    private static string? RequestIdOf(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("x-request-id", out var values) ? values.ToString() : null;

    private LlmException Invalid(string message, string? requestId, Exception? inner) =>
        new(LlmFailureKind.InvalidResponse, message, inner, HttpStatusCode.OK) { RequestId = requestId, Attempts = 1 };
}
