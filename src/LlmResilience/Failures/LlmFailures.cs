using System.Net;
using System.Text;

namespace LlmResilience;

/// <summary>
/// The failure factory: the one place that turns a status, an error body or an exception into a failure kind, a
/// retry verdict and a message that says what happened and what to do. The pipeline classifies each attempt here
/// (<see cref="FromResponse"/>, <see cref="FromException"/>); the final <see cref="LlmException"/> of a call is built
/// here from the call's record (<see cref="ToException"/>, <see cref="AfterResponse"/>); the metrics read the same
/// kinds. The API key is scrubbed from anything the server echoed.
/// </summary>
internal static class LlmFailures
{
    private const int MaxQuotedChars = 300;

    /// <summary>408, 409, 429, 500, 502, 503, 504 and Cloudflare's 520-524 are worth another attempt; 400, 401, 403, 404, 422 never are.</summary>
    public static bool IsRetryableStatus(int status) =>
        status is 408 or 409 or 429 or 500 or 502 or 503 or 504 or (>= 520 and <= 524);

    /// <summary>Classifies an attempt that ended with an exception (the caller's own cancellation is handled before this).</summary>
    public static AttemptFailure FromException(Exception exception)
    {
        var (kind, retryable) = TransportFailures.Classify(exception);
        return new AttemptFailure(kind, retryable, TransportFailures.Describe(exception))
        {
            Exception = WithoutUserInfo(exception),
            StatusCode = exception is LlmException { StatusCode: { } status } ? (int)status : null,
        };
    }

    // The runtime quotes a proxy's address as configured, credentials and all ("proxy 'http://user:secret@host/'");
    // the exception the caller gets (and logs with ToString) carries a copy without them.
    private static Exception WithoutUserInfo(Exception exception) =>
        exception is HttpRequestException { } http and not LlmException && Endpoints.StripUserInfo(http.Message) is var message && !ReferenceEquals(message, http.Message)
            ? new HttpRequestException(http.HttpRequestError, message, http.InnerException, http.StatusCode)
            : exception;

    /// <summary>Classifies an attempt that ended with an error response whose (bounded) body is <paramref name="body"/>.</summary>
    public static AttemptFailure FromResponse(HttpResponseMessage response, ReadOnlySpan<byte> body, DateTimeOffset now, string? secret)
    {
        var status = (int)response.StatusCode;
        var hasError = OpenAiErrorBody.TryParse(body, out var error);
        var server = ResponseHeaders.ServerOf(response);
        var kind = KindOf(status, hasError ? error : null, body);
        var serverSays = ServerRetryHints.GetShouldRetry(response.Headers);
        var code = error.Code ?? error.Type;
        return new AttemptFailure(kind, kind != LlmFailureKind.QuotaExceeded && (serverSays ?? IsRetryableStatus(status)), Tag(status, code))
        {
            StatusCode = status,
            ErrorCode = code,
            ServerSaid = hasError && !string.IsNullOrWhiteSpace(error.Message) ? Quote(error.Message!, secret) : Quote(FirstLine(body), secret),
            Server = server,
            RetryAfter = ServerRetryHints.GetRetryAfter(response.Headers, status, now),
            ServerSaysRetry = serverSays,
        };
    }

    /// <summary>What an error status and body mean for the caller.</summary>
    internal static LlmFailureKind KindOf(int status, OpenAiError? error, ReadOnlySpan<byte> body)
    {
        var code = error?.Code;
        var type = error?.Type;
        switch (status)
        {
            case 401 or 403:
                return LlmFailureKind.Unauthorized;
            case 429:
                return code is "insufficient_quota" || type is "insufficient_quota" ? LlmFailureKind.QuotaExceeded : LlmFailureKind.RateLimited;
            case 408:
                return LlmFailureKind.Timeout;
            case 502 or 503 or 504 or (>= 520 and <= 524):
                // An error in the API's own JSON format is the API's answer, whatever carried it: api.openai.com answers
                // through Cloudflare, so a "Server: cloudflare" header proves nothing. A non-JSON body (an HTML page, an
                // Envoy or nginx text, nothing at all) comes from something in front of the model.
                return error is not null && !LooksLikeProxyBody(body) ? LlmFailureKind.ServerError : LlmFailureKind.ProxyUpstreamFailure;
            case >= 500:
                return LlmFailureKind.ServerError;
            case >= 400:
                return code is "context_length_exceeded" || (error?.Message?.Contains("maximum context length", StringComparison.OrdinalIgnoreCase) ?? false)
                    ? LlmFailureKind.ContextLengthExceeded
                    : LlmFailureKind.BadRequest;
            default:
                return LlmFailureKind.InvalidResponse;
        }
    }

    /// <summary>The time each of the call's attempts has: the call's own (<see cref="LlmRequestOptions.AttemptTimeout"/>) when it set one, else the pipeline's.</summary>
    public static TimeSpan AttemptTimeoutOf(LlmCall call, LlmResilienceOptions options) => call.AttemptTimeout ?? options.AttemptTimeout;

    /// <summary>What an attempt that ran out of <see cref="AttemptTimeoutOf"/> records.</summary>
    public static AttemptFailure AttemptTimedOut(LlmCall call, LlmResilienceOptions options) =>
        new(LlmFailureKind.Timeout, true, $"no response within {DescribeAttemptTimeout(call, options)}");

    /// <summary>The exception a call that the pipeline gave up on fails with, built from its last attempt and why it stopped.</summary>
    public static LlmException ToException(LlmCall call, LlmResilienceOptions options)
    {
        var last = call.LastAttempt ?? throw new InvalidOperationException("A call with no attempt has no failure to report.");
        var failure = last.Failure ?? throw new InvalidOperationException("The last attempt did not fail.");
        var attempts = call.AttemptCount;
        if (call.Selector is { Routes: true } && call.StopReason != CallStopReason.TotalTimeout && AcrossEndpoints(call) is { } across)
        {
            return across;
        }

        var stop = call.StopReason;
        var endpoint = Endpoints.Describe(last.RequestUri);
        string message;
        var kind = failure.Kind;
        if (stop == CallStopReason.TotalTimeout)
        {
            kind = LlmFailureKind.Timeout;
            message = $"The call to {endpoint} did not complete within {DescribeTotalTimeout(call)} after {Count(attempts)}. Raise {(call.OwnTotalTimeout ? nameof(LlmRequestOptions) : nameof(LlmResilienceOptions))}.TotalTimeout if the model needs longer, or check the endpoint's health.";
        }
        else if (failure.StatusCode is { } status && failure.Exception is null)
        {
            message = ForStatus(call, failure, status, endpoint, attempts, stop, options);
        }
        else if (failure.Exception is LlmException inner)
        {
            message = attempts > 1 ? $"{inner.Message} ({Count(attempts)} were made.)" : inner.Message;
        }
        else
        {
            var reason = failure.Reason;
            message = kind switch
            {
                LlmFailureKind.ConnectFailure when failure.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ProxyTunnelError } =>
                    $"Could not reach {endpoint} through the proxy ({reason}) after {Count(attempts)}. The failure is between this process and its proxy, not at the API: check the proxy address and credentials in HTTPS_PROXY / NO_PROXY (or the Proxy of the handler), and that the proxy allows CONNECT to {last.RequestUri?.Authority}.",
                LlmFailureKind.ConnectFailure when TransportFailures.FindTlsProblem(failure.Exception) is { } tls =>
                    TransportFailures.Advice(tls, endpoint, last.RequestUri?.Host) + (attempts > 1 ? $" ({Count(attempts)} were made.)" : string.Empty),
                LlmFailureKind.ConnectFailure =>
                    $"Could not connect to {endpoint} ({reason}) after {Count(attempts)}. Check BaseAddress, DNS, firewalls and the proxy settings (HTTPS_PROXY, NO_PROXY); on a slow network raise ConnectTimeout ({options.ConnectTimeout}).",
                LlmFailureKind.ResetBeforeHeaders =>
                    $"The connection to {endpoint} was reset or closed before a response arrived ({reason}) after {Count(attempts)}. A proxy or load balancer on the way is dropping the request (Envoy calls it 'upstream connect error or disconnect/reset before headers'): check that its idle and request timeouts exceed the model's response time.",
                LlmFailureKind.Timeout =>
                    $"{endpoint} sent no response within {DescribeAttemptTimeout(call, options)} after {Count(attempts)}. Raise {(call.AttemptTimeout is null ? nameof(LlmResilienceOptions) : nameof(LlmRequestOptions))}.AttemptTimeout for long generations, or stream the response.",
                _ => $"The call to {endpoint} failed ({reason}) after {Count(attempts)}.",
            };
        }

        if (stop == CallStopReason.RetryBudgetExhausted)
        {
            message += $" It was not retried: the client's retry budget ({options.RetryBudget.Describe()}) is spent, which holds retries back while many calls fail so that they do not multiply the load on the provider.";
        }

        if (stop == CallStopReason.WouldOutliveTotalTimeout && !(kind == LlmFailureKind.RateLimited && failure.RetryAfter is not null))
        {
            message += $" No further attempt: its wait would have outlived {DescribeTotalTimeout(call)}.";
        }

        return new LlmException(kind, message, failure.Exception, failure.StatusCode is { } code ? (HttpStatusCode)code : null)
        {
            ErrorCode = failure.ErrorCode,
            RequestId = last.RequestId,
            RetryAfter = failure.RetryAfter,
            Attempts = attempts,
            Endpoint = last.Endpoint.Name,
        };
    }

    /// <summary>
    /// A routed call that tried more than one endpoint: each endpoint's last failure, and the most telling kind (one
    /// that is about a key, such as QuotaExceeded, only when every endpoint failed that way).
    /// </summary>
    private static LlmException? AcrossEndpoints(LlmCall call)
    {
        var attempts = call.Attempts;
        var lastPerEndpoint = new List<LlmAttempt>(attempts.Count);
        for (var i = attempts.Count - 1; i >= 0; i--)
        {
            if (attempts[i].Failure is not null && !lastPerEndpoint.Exists(a => ReferenceEquals(a.Endpoint, attempts[i].Endpoint)))
            {
                lastPerEndpoint.Add(attempts[i]);
            }
        }

        var stop = call.StopReason;
        if (lastPerEndpoint.Count < 2 && stop != CallStopReason.NoEndpointAvailable)
        {
            return null;
        }

        lastPerEndpoint.Reverse();
        var telling = MostTelling(lastPerEndpoint);
        var failure = telling.Failure!;
        var summary = string.Join("; ", lastPerEndpoint.Select(static a => $"{a.Endpoint.Name}: {a.Failure!.Reason}{(a.Failure.ServerSaid is { } said ? $" (\"{said}\")" : string.Empty)}"));
        var message = $"The call failed on {(lastPerEndpoint.Count == 1 ? "the only endpoint" : $"each of the {lastPerEndpoint.Count} endpoints")} it tried, after {Count(attempts.Count)}: {summary}.";
        if (Advice(failure.Kind, lastPerEndpoint.Count) is { } advice)
        {
            message += " " + advice;
        }

        TimeSpan? retryAfter = failure.RetryAfter;
        if (stop == CallStopReason.NoEndpointAvailable && call.Selector is { } selector)
        {
            retryAfter = selector.AvailableIn(call);
            message += $" No endpoint is available for another attempt: {selector.DescribeAvailability()}.";
        }
        else if (stop == CallStopReason.AttemptsExhausted)
        {
            message += " MaxRetryAttempts was reached.";
        }
        else if (stop == CallStopReason.RetryBudgetExhausted)
        {
            message += " The client's retry budget is spent, so it was not retried further.";
        }

        var lastAttempt = attempts[^1];
        return new LlmException(failure.Kind, message, failure.Exception, failure.StatusCode is { } code ? (HttpStatusCode)code : null)
        {
            ErrorCode = failure.ErrorCode,
            RequestId = lastAttempt.RequestId,
            RetryAfter = retryAfter,
            Attempts = attempts.Count,
            Endpoint = lastAttempt.Endpoint.Name,
        };
    }

    private static LlmAttempt MostTelling(List<LlmAttempt> lastPerEndpoint)
    {
        var first = lastPerEndpoint[0].Failure!.Kind;
        if (lastPerEndpoint.TrueForAll(a => a.Failure!.Kind == first))
        {
            return lastPerEndpoint[^1];
        }

        // Mixed: a failure about one key or one deployment says little about the call; the latest other failure does.
        for (var i = lastPerEndpoint.Count - 1; i >= 0; i--)
        {
            var failure = lastPerEndpoint[i].Failure!;
            if (failure.Kind is not (LlmFailureKind.QuotaExceeded or LlmFailureKind.Unauthorized) && failure.StatusCode != 404)
            {
                return lastPerEndpoint[i];
            }
        }

        return lastPerEndpoint[^1];
    }

    private static string? Advice(LlmFailureKind kind, int endpoints) => kind switch
    {
        LlmFailureKind.RateLimited => "The endpoints are rate limiting this client: lower your request rate or concurrency, or add keys or endpoints.",
        LlmFailureKind.QuotaExceeded => endpoints > 1 ? "Every endpoint's key is out of quota: add credit or raise the spending limits." : "The key is out of quota: add credit or raise its spending limit.",
        LlmFailureKind.Unauthorized => "Check the key configured for each endpoint and that it may use the model.",
        LlmFailureKind.ContextLengthExceeded => "No endpoint with a larger context window is left: shorten the conversation, or add an endpoint with a larger ContextWindowTokens.",
        LlmFailureKind.ServerError or LlmFailureKind.ProxyUpstreamFailure or LlmFailureKind.Timeout or LlmFailureKind.ConnectFailure or LlmFailureKind.ResetBeforeHeaders =>
            "The providers are having trouble; retry later, or check the endpoints' health.",
        _ => null,
    };

    /// <summary>
    /// The exception for an answer that arrived (the pipeline's work was done) but cannot be used: not JSON, malformed,
    /// a stream that broke after its first event. Counts the call's attempts like every other failure.
    /// </summary>
    public static LlmException AfterResponse(LlmCall call, LlmFailureKind kind, string message, Exception? inner, string? requestId, string? partialContent = null)
    {
        call.StopReason = CallStopReason.FailedAfterResponse;
        return new LlmException(kind, message, inner, HttpStatusCode.OK)
        {
            RequestId = requestId,
            PartialContent = partialContent,
            Attempts = Math.Max(1, call.AttemptCount),
            Endpoint = call.LastAttempt?.Endpoint.Name,
        };
    }

    /// <summary>"1 attempt", "3 attempts".</summary>
    public static string Count(int attempts) => attempts == 1 ? "1 attempt" : $"{attempts} attempts";

    private static string ForStatus(LlmCall call, AttemptFailure failure, int status, string endpoint, int attempts, CallStopReason stop, LlmResilienceOptions options)
    {
        var tag = failure.Reason;
        var said = failure.ServerSaid;
        var retryAfter = failure.RetryAfter;
        var tried = attempts == 1 ? "on its only attempt" : $"on each of {attempts} attempts";
        var message = failure.Kind switch
        {
            LlmFailureKind.RateLimited when stop == CallStopReason.RetryAfterTooLong =>
                $"{endpoint} is rate limiting this client ({tag}) and asked to wait {retryAfter}, longer than MaxRetryAfter ({options.MaxRetryAfter}), so the call failed after {Count(attempts)} instead of sleeping. Wait that long before calling again, lower your request rate, or raise LlmResilienceOptions.MaxRetryAfter.",
            LlmFailureKind.RateLimited when stop == CallStopReason.WouldOutliveTotalTimeout =>
                $"{endpoint} is rate limiting this client ({tag}); the wait it asked for ({retryAfter}) would have outlived {DescribeTotalTimeout(call)}, so the call failed after {Count(attempts)}. Lower your request rate or concurrency.",
            LlmFailureKind.RateLimited =>
                $"{endpoint} rate limited the call ({tag}) {tried}. Lower your request rate or concurrency, or raise MaxRetryAttempts. Server said: {said}",
            LlmFailureKind.QuotaExceeded =>
                $"The account behind this API key has no quota left ({tag}): add credit or raise its spending limit. Retrying will not help. Server said: {said}",
            LlmFailureKind.Unauthorized =>
                $"{endpoint} rejected the credentials ({tag}). Check LlmClientOptions.ApiKey and that the key may use this model. Server said: {said}",
            LlmFailureKind.ContextLengthExceeded =>
                $"The messages plus the requested completion exceed the model's context window ({tag}). Shorten or summarize the conversation, or lower MaxTokens / MaxCompletionTokens. Server said: {said}",
            LlmFailureKind.BadRequest =>
                $"{endpoint} rejected the request as invalid ({tag}){(attempts > 1 ? $" after {Count(attempts)}" : string.Empty)}. Fix the request; retrying will not help. Server said: {said}",
            LlmFailureKind.ProxyUpstreamFailure =>
                $"A proxy or gateway{(failure.Server is null ? string.Empty : $" ({failure.Server})")} in front of the model could not get an answer from it (HTTP {status}) {tried}: \"{said}\". Check the proxy's upstream and idle timeouts (Envoy route timeout, nginx proxy_read_timeout, Cloudflare's 100-second limit: stream long completions) and the upstream's health.",
            LlmFailureKind.Timeout =>
                $"{endpoint} timed out the request ({tag}) {tried}. Retry later, or ask for a shorter completion. Server said: {said}",
            _ =>
                $"{endpoint} failed ({tag}) {tried}. The provider is having trouble; retry later. Server said: {said}",
        };

        if (failure.Kind != LlmFailureKind.RateLimited && stop == CallStopReason.RetryAfterTooLong)
        {
            message += $" The server asked to wait {retryAfter} before retrying, longer than MaxRetryAfter ({options.MaxRetryAfter}), so the call failed at once.";
        }

        if (stop == CallStopReason.ServerSaidDoNotRetry)
        {
            message += " (The server sent x-should-retry: false, so it was not retried.)";
        }

        return message;
    }

    // "HTTP 429 rate_limit_exceeded"; a code that only repeats the status (Azure sends "code": "401") is left out.
    private static string Tag(int status, string? code) =>
        code is null || code == status.ToString(System.Globalization.CultureInfo.InvariantCulture) ? $"HTTP {status}" : $"HTTP {status} {code}";

    private static bool LooksLikeProxyBody(ReadOnlySpan<byte> body) =>
        body.IndexOf("upstream connect error"u8) >= 0 || body.IndexOf("no healthy upstream"u8) >= 0 || body.IndexOf("<html"u8) >= 0;

    private static string FirstLine(ReadOnlySpan<byte> body)
    {
        if (body.Length == 0)
        {
            return "(empty body)";
        }

        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 4 * MaxQuotedChars)]);
        var title = text.IndexOf("<title>", StringComparison.OrdinalIgnoreCase);
        if (title >= 0)
        {
            var end = text.IndexOf("</title>", title, StringComparison.OrdinalIgnoreCase);
            return end > title ? text[(title + 7)..end] : text[(title + 7)..];
        }

        var newline = text.IndexOfAny(['\r', '\n']);
        return newline > 0 ? text[..newline] : text;
    }

    private static string Quote(string text, string? secret)
    {
        if (!string.IsNullOrEmpty(secret) && text.Contains(secret, StringComparison.Ordinal))
        {
            text = text.Replace(secret, "[redacted]", StringComparison.Ordinal);
        }

        return text.Length <= MaxQuotedChars ? text : string.Concat(text.AsSpan(0, MaxQuotedChars), "…");
    }

    /// <summary>The call's deadline as messages name it: the call's own (<see cref="LlmRequestOptions.TotalTimeout"/>) or the client's.</summary>
    public static string DescribeTotalTimeout(LlmCall call) =>
        call.OwnTotalTimeout ? $"the call's TotalTimeout ({call.TotalTimeout})" : $"TotalTimeout ({call.TotalTimeout})";

    // Names the timeout that applied, the call's own or the pipeline's, with its value (failure paths only).
    private static string DescribeAttemptTimeout(LlmCall call, LlmResilienceOptions options) =>
        call.AttemptTimeout is { } own ? $"the call's AttemptTimeout ({own})" : $"AttemptTimeout ({options.AttemptTimeout})";
}
